/**
 * Layout, tiling and the movement model (src/compiler/mapping.ts): raster vs scattered placement,
 * arrays/tiles/passes and row utilisation, tile hops on a mesh and an H-tree, movement cycles, and
 * the load/store events of a tiny network counted by hand: a 4x4 output with 3x3 kernels (pad 1)
 * on arrays of 8 rows, so every layer spans two arrays and loads cross between them.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { loadArch } from "../../src/ap/config.js";
import { loadEvents, mapPositions, movementCycles, storeEvents, tileHops, type MovementContext } from "../../src/compiler/mapping.js";
import { compileNetwork } from "../../src/compiler/pipeline.js";
import { Rng } from "../../src/util/random.js";
import { archWith, assertBitExact, fmnistQGraph, QGraphBuilder, randomPixels, verifiedRun } from "./helpers.js";

describe("mapPositions", () => {
  test("raster: positions fill array 0 row by row, then array 1; scattered: round-robin over the arrays", () => {
    const arch = archWith({ rows: 8 }, { arraysPerTile: 2 });
    const r = mapPositions([3, 4, 4], arch, true);
    assert.deepEqual([r.positions, r.rowsPerArray, r.arrays, r.tiles, r.passes, r.utilization, r.raster], [16, 8, 2, 1, 1, 1, true]);
    assert.deepEqual(Array.from({ length: 16 }, (_, p) => r.place(p)), Array.from({ length: 16 }, (_, p) => ({ tile: 0, array: p >> 3, row: p & 7 })));
    assert.deepEqual([...r.rowsInArray], [8, 8]);
    const s = mapPositions([3, 4, 4], arch, false);
    assert.equal(s.raster, false);
    assert.deepEqual(Array.from({ length: 16 }, (_, p) => s.place(p)), Array.from({ length: 16 }, (_, p) => ({ tile: 0, array: p % 2, row: p >> 1 })));
    assert.deepEqual([...s.rowsInArray], [8, 8]);
  });

  test("partial arrays, several tiles, utilisation = positions / rows of the used arrays", () => {
    const arch = archWith({ rows: 5 }, { arraysPerTile: 2 });
    const m = mapPositions([1, 4, 4], arch, true);
    assert.deepEqual([m.arrays, m.tiles, m.passes], [4, 2, 1]);
    assert.equal(m.utilization, 16 / 20);
    assert.deepEqual([...m.rowsInArray], [5, 5, 5, 1]);
    assert.deepEqual(m.place(11), { tile: 1, array: 0, row: 1 });
  });

  test("more positions than the chip has rows: further passes over the same arrays", () => {
    const arch = archWith({ rows: 5 }, { tiles: 1, arraysPerTile: 2 });
    const m = mapPositions([1, 4, 4], arch, true);
    assert.deepEqual([m.passes, m.arrays, m.tiles], [2, 2, 1]);
    assert.equal(m.utilization, 16 / (2 * 2 * 5));
    assert.deepEqual(m.place(8), m.place(0));
    assert.deepEqual(m.place(15), { tile: 0, array: 1, row: 2 });
  });

  test("fmnist-resnet8 on rtm-ap: 28x28 on 2 arrays (76.6%), 14x14 (38.3%), 7x7 (9.6%), the FC layer on one row (0.2%)", async () => {
    const net = compileNetwork(fmnistQGraph());
    const got = net.units.map((u) => [u.mapping.positions, u.mapping.arrays, u.mapping.tiles, Math.round(u.mapping.utilization * 1000) / 10]);
    assert.deepEqual(got, [
      [784, 2, 1, 76.6], [784, 2, 1, 76.6], [784, 2, 1, 76.6],
      [196, 1, 1, 38.3], [196, 1, 1, 38.3],
      [49, 1, 1, 9.6], [49, 1, 1, 9.6],
      [1, 1, 1, 0.2], [1, 1, 1, 0.2],
    ]);
  });
});

describe("tileHops", () => {
  test("mesh: Manhattan distance on a near-square grid; htree: 2 x levels to the common ancestor", () => {
    const mesh = loadArch("rtm-ap");
    assert.equal(mesh.interconnect, "mesh");
    assert.equal(mesh.tiles, 16);
    assert.deepEqual([tileHops(mesh, 3, 3), tileHops(mesh, 0, 1), tileHops(mesh, 0, 4), tileHops(mesh, 0, 15), tileHops(mesh, 5, 10)], [0, 1, 1, 6, 2]);
    const htree = { ...mesh, interconnect: "htree" as const };
    assert.deepEqual([tileHops(htree, 3, 3), tileHops(htree, 0, 1), tileHops(htree, 0, 2), tileHops(htree, 0, 15), tileHops(htree, 6, 7)], [0, 2, 4, 8, 2]);
  });
});

describe("movementCycles", () => {
  test("slowest array's rows x (row write/read + tile-bus beats + link beats) x passes", () => {
    const arch = archWith({ rows: 8 }, { arraysPerTile: 2 });
    const m = mapPositions([1, 4, 4], arch, true);
    const t = arch.timing;
    assert.equal(movementCycles(arch, m, 36, "load", 0), 8 * (t.bufferWrite + Math.ceil(36 / t.arrayBusBits) * t.arrayBusCycles));
    assert.equal(movementCycles(arch, m, 36, "store", 0), 8 * (t.bufferRead + Math.ceil(36 / t.arrayBusBits) * t.arrayBusCycles));
    assert.equal(movementCycles(arch, m, 600, "load", 0.5), 8 * (t.bufferWrite + Math.ceil(600 / t.arrayBusBits) * t.arrayBusCycles + Math.ceil(300 / t.tileLinkBits) * t.tileLinkCycles));
  });
});

/**
 * x [1,4,4] 8-bit -> conv c1 (2 channels, 3x3, pad 1) -> requant a1 (4-bit) -> conv c2 (2x2x3x3,
 * pad 1) -> requant a2. Both units have 16 positions; with 8 rows per array each spans two arrays:
 * output rows 0-1 in array 0, rows 2-3 in array 1.
 */
function twoLayerNet() {
  const g = new QGraphBuilder(new Rng(3));
  const x = g.input("x", [1, 4, 4]);
  const c1 = g.conv("c1", x, 2, [3, 3], { pads: [1, 1, 1, 1], density: 0.8 });
  const a1 = g.requant("a1", c1);
  const c2 = g.conv("c2", a1, 2, [3, 3], { pads: [1, 1, 1, 1], density: 0.8 });
  return g.build(g.requant("a2", c2), "two-layer");
}

describe("movement events of a hand-counted case", () => {
  // Per input channel and 3x3 pad-1 window over a 4x4 map: (position, offset) pairs inside the
  // input = 10 x 10 = 100 (per axis: offset -1 -> 3, 0 -> 4, +1 -> 3 positions). A load crosses
  // between the two arrays when dy = +1 at output row 1 or dy = -1 at output row 2: 4 positions
  // for dx = 0, 3 for dx = +-1, so 2 x (4 + 3 + 3) = 20 crossings per channel.
  const q = twoLayerNet();
  const pixels = randomPixels([1, 4, 4], 3, 11);

  const run = (arch = archWith({ rows: 8 }, { arraysPerTile: 2 }), disable: ("layout" | "movement")[] = []) => {
    const net = compileNetwork(q, { arch, verify: true, disable });
    const fast = verifiedRun(net, pixels, 3, { mode: "fast" });
    const bit = verifiedRun(net, pixels, 3, { mode: "bit" });
    assertBitExact(fast, "fast");
    assertBitExact(bit, "bit");
    assert.deepEqual(bit.events, fast.events, "bit-level and word-level events");
    return { net, fast };
  };

  test("raster on two arrays of one tile: c1 fetches 800 input bits from the global buffer, c2 20 crossings x 2 channels x 4 bits over the tile bus", () => {
    const { net, fast } = run();
    assert.deepEqual(net.units.map((u) => [u.unit.name, u.mapping.arrays, u.mapping.tiles]), [["c1", 2, 1], ["c2", 2, 1]]);
    const n = 3; // images; every figure below is per image x n
    const u1 = fast.unitEvents[0]!, u2 = fast.unitEvents[1]!;
    assert.equal(u1.transferBitsChip, n * 100 * 8, "c1: input bits from the global buffer");
    assert.equal(u1.bufferWriteBits, n * 9 * 16 * 8, "c1: 9 loads x 16 rows x 8 bits (padding included)");
    assert.equal(u1.bufferReadBits, n * 2 * 16 * 4, "c1: 2 channels of 4-bit codes stored from 16 rows");
    assert.deepEqual([u1.transferBitsArray, u1.transferBitsTile], [0, 0]);
    assert.equal(u2.transferBitsArray, n * 20 * 2 * 4, "c2: crossings x channels x 4 bits");
    assert.equal(u2.bufferWriteBits, n * 18 * 16 * 4);
    assert.deepEqual([u2.transferBitsChip, u2.transferBitsTile, u2.transferBitHopsTile], [0, 0, 0]);
  });

  test("scattered (layout off): positions alternate arrays by column, so every dx = +-1 load crosses: 2 x (12 + 9 + 9) = 60 per channel", () => {
    const { fast } = run(undefined, ["layout"]);
    assert.equal(fast.unitEvents[1]!.transferBitsArray, 3 * 60 * 2 * 4);
    assert.equal(fast.unitEvents[0]!.transferBitsChip, 3 * 800);
  });

  test("one array per tile: the same crossings go over the mesh (1 hop) or the H-tree (2 hops)", () => {
    const mesh = run(archWith({ rows: 8 }, { arraysPerTile: 1 })).fast.unitEvents[1]!;
    assert.deepEqual([mesh.transferBitsArray, mesh.transferBitsTile, mesh.transferBitHopsTile], [0, 3 * 160, 3 * 160]);
    const htreeArch = { ...archWith({ rows: 8 }, { arraysPerTile: 1 }), interconnect: "htree" as const };
    const htree = run(htreeArch).fast.unitEvents[1]!;
    assert.deepEqual([htree.transferBitsTile, htree.transferBitHopsTile], [3 * 160, 3 * 2 * 160]);
  });

  test("movement off: every load outside the padding and every store goes through the global buffer", () => {
    const { fast } = run(undefined, ["movement"]);
    // loads: 100 in-range pairs per channel (c1: 1 channel of 8 bits; c2: 2 channels of 4 bits); stores: 2 x 16 x 4
    assert.equal(fast.unitEvents[0]!.transferBitsChip, 3 * (800 + 128));
    assert.equal(fast.unitEvents[1]!.transferBitsChip, 3 * (2 * 100 * 4 + 128));
    assert.equal(fast.unitEvents[1]!.transferBitsArray, 0);
  });

  test("loadEvents / storeEvents directly: the network input always comes from the global buffer, padding travels nowhere", () => {
    const arch = archWith({ rows: 8 }, { arraysPerTile: 2 });
    const mapping = mapPositions([2, 4, 4], arch, true);
    const ctx: MovementContext = { arch, mapping, producerMapping: () => "global", local: true };
    const corner = loadEvents(ctx, { tensor: "x", channel: 0, sy: 1, sx: 1, dy: -1, dx: -1, pad: 0 }, 8, [1, 4, 4]);
    assert.deepEqual([corner.bufferWriteBits, corner.transferBitsChip], [16 * 8, 9 * 8]);
    const local: MovementContext = { ...ctx, producerMapping: () => mapping };
    const down = loadEvents(local, { tensor: "a", channel: 0, sy: 1, sx: 1, dy: 1, dx: 0, pad: 0 }, 4, [2, 4, 4]);
    assert.deepEqual([down.transferBitsArray, down.transferBitsChip], [4 * 4, 0]);
    const st = storeEvents(ctx, 4);
    assert.deepEqual([st.bufferReadBits, st.transferBitsChip], [64, 0]);
    assert.equal(storeEvents({ ...ctx, local: false }, 4).transferBitsChip, 64);
  });
});
