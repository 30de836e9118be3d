/**
 * The IDX file format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/, "FILE
 * FORMATS"): a 4-byte magic number `00 00 <type> <ndims>`, then ndims big-endian uint32
 * dimensions, then the data in row-major order. rtap only needs type 0x08 (unsigned byte):
 * images are magic 0x00000803 (count x rows x cols), labels 0x00000801 (count).
 *
 * Files may be gzipped (as distributed) or not; gzip is recognised by its magic bytes, not by the
 * file name, so a renamed file still works.
 */
import { readFileSync } from "node:fs";
import { gunzipSync, gzipSync } from "node:zlib";
import { RtapError } from "../errors.js";

/** IDX type byte for unsigned 8-bit data, the only type rtap reads. */
export const IDX_UBYTE = 0x08;
export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

export interface IdxArray {
  /** Dimensions, outermost first (e.g. [10000, 28, 28]). */
  dims: number[];
  /** Row-major data, exactly product(dims) bytes. */
  data: Uint8Array;
}

/** True when the bytes start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Reads a file, gunzipping it when it is gzip; every failure is an RtapError naming the file. */
export function readMaybeGzip(file: string): Uint8Array {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (err) {
    throw new RtapError(`cannot read file: ${errnoText(err)}`, file);
  }
  if (!isGzip(raw)) return raw;
  try {
    return gunzipSync(raw);
  } catch (err) {
    // A cut-off download ends in "unexpected end of file"; say it in words a user can act on.
    throw new RtapError(`corrupt or truncated gzip data (${err instanceof Error ? err.message : String(err)})`, file);
  }
}

/**
 * Parses an unsigned-byte IDX array and checks its header against `expectMagic` and its size
 * against the header: a short file is "truncated", a long one has "trailing bytes".
 */
export function parseIdx(bytes: Uint8Array, file: string, expectMagic: number): IdxArray {
  if (bytes.length < 4) throw new RtapError(`truncated IDX file: ${bytes.length} bytes, too short for the 4-byte magic number`, file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expectMagic) {
    throw new RtapError(`bad IDX magic number ${hex32(magic)}, expected ${hex32(expectMagic)} (${describeMagic(expectMagic)})`, file);
  }
  const ndims = magic & 0xff;
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new RtapError(`truncated IDX file: ${bytes.length} bytes, the header of ${ndims} dimensions needs ${headerBytes}`, file);
  }
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const dataBytes = dims.reduce((a, b) => a * b, 1);
  const expected = headerBytes + dataBytes;
  if (bytes.length < expected) {
    throw new RtapError(
      `truncated IDX file: dimensions [${dims.join(", ")}] need ${expected} bytes, the file has ${bytes.length}`,
      file,
    );
  }
  if (bytes.length > expected) {
    throw new RtapError(
      `IDX file has ${bytes.length - expected} trailing bytes after the data of dimensions [${dims.join(", ")}]`,
      file,
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** Encodes an unsigned-byte IDX array (for the fixture script and tests). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const n = dims.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new RangeError(`encodeIdx: dims [${dims.join(", ")}] hold ${n} bytes, data has ${data.length}`);
  const out = new Uint8Array(4 + 4 * dims.length + n);
  const view = new DataView(out.buffer);
  view.setUint32(0, (IDX_UBYTE << 8) | dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** gzip with fixed settings, so regenerated fixtures are byte-identical (zlib writes mtime 0). */
export function gzipDeterministic(bytes: Uint8Array): Uint8Array {
  return gzipSync(bytes, { level: 9 });
}

function hex32(v: number): string {
  return `0x${v.toString(16).padStart(8, "0")}`;
}

function describeMagic(magic: number): string {
  if (magic === IDX_IMAGES_MAGIC) return "IDX unsigned-byte images, 3 dimensions";
  if (magic === IDX_LABELS_MAGIC) return "IDX unsigned-byte labels, 1 dimension";
  return "IDX";
}

function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === "ENOENT") return "no such file";
  if (e?.code === "EACCES") return "permission denied";
  if (e?.code === "EISDIR") return "is a directory";
  return e instanceof Error ? e.message : String(err);
}
