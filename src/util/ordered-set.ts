/**
 * A set of small non-negative integers (below a capacity fixed up front) that iterates in
 * insertion order, like a JS Set of numbers, on typed arrays: add and delete are O(1) array writes
 * instead of hashing. The lowering keeps one per block DAG (its hot values, ~10^7 adds and deletes
 * per ResNet-18 variant), and its eviction rule depends on the insertion order (ties go to the
 * oldest), so the order must be exactly a Set's: re-adding a member leaves it where it is.
 */
export class InsertionOrderedSet {
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly member: Uint8Array;
  private head = -1;
  private tail = -1;
  private count = 0;

  constructor(readonly capacity: number) {
    this.next = new Int32Array(capacity);
    this.prev = new Int32Array(capacity);
    this.member = new Uint8Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  has(x: number): boolean {
    return this.member[x] === 1;
  }

  add(x: number): void {
    if (this.member[x] === 1) return;
    if (!(x >= 0 && x < this.capacity)) throw new RangeError(`InsertionOrderedSet: ${x} is outside 0..${this.capacity - 1}`);
    this.member[x] = 1;
    this.prev[x] = this.tail;
    this.next[x] = -1;
    if (this.tail >= 0) this.next[this.tail] = x;
    else this.head = x;
    this.tail = x;
    this.count++;
  }

  delete(x: number): boolean {
    if (this.member[x] !== 1) return false;
    this.member[x] = 0;
    const p = this.prev[x]!, n = this.next[x]!;
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
    this.count--;
    return true;
  }

  /** Removes every member (in O(size): the set can be reused instead of allocated again). */
  clear(): void {
    for (let x = this.head; x >= 0; x = this.next[x]!) this.member[x] = 0;
    this.head = this.tail = -1;
    this.count = 0;
  }

  /** The first member (-1 when empty); then `after(x)` until -1, in insertion order. */
  first(): number {
    return this.head;
  }

  after(x: number): number {
    return this.next[x]!;
  }
}
