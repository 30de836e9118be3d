/**
 * What the compiler does not support fails at compile time with an RtapError naming the op or
 * unit: requants the units cannot fuse, residual operands of different shapes, receptive fields
 * and pooling windows larger than a row's input region, values wider than the AP's 31 bits, rows
 * with a single shift group, TMP slots narrower than a value, rows with fewer scratch cells than a
 * 15-threshold requantization needs.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { compileNetwork } from "../../src/compiler/pipeline.js";
import { RtapError } from "../../src/errors.js";
import { Rng } from "../../src/util/random.js";
import { archWith, assertBitExact, fmnistQGraph, QGraphBuilder, randomPixels, verifiedRun } from "./helpers.js";

/** An RtapError whose message contains every fragment. */
function rtapError(...fragments: string[]) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof RtapError, `expected an RtapError, got ${String(e)}`);
    for (const f of fragments) assert.ok(e.message.includes(f), `${JSON.stringify(e.message)} lacks ${JSON.stringify(f)}`);
    return true;
  };
}

describe("unsupported graph constructs", () => {
  test("a requant after a max pool (not after a conv or residual add) names the requant op", () => {
    const g = new QGraphBuilder(new Rng(1));
    const x = g.input("x", [2, 6, 6]);
    const c = g.conv("c", x, 3, [3, 3]);
    const p = g.pool("maxpool", "pool", c, [2, 2], [2, 2]);
    const q = g.build(g.requant("codes after pool", p));
    assert.throws(() => compileNetwork(q), rtapError('op "codes after pool"', "a requantization not directly after a convolution or residual add is not supported"));
  });

  test("a requant of a conv output that also feeds another op cannot fuse: named", () => {
    const g = new QGraphBuilder(new Rng(2));
    const x = g.input("x", [2, 6, 6]);
    const c = g.conv("c", x, 3, [3, 3]);
    const r = g.requant("r", c);
    const p = g.pool("maxpool", "p", c, [2, 2], [2, 2]);
    void r;
    const q = g.build(p);
    assert.throws(() => compileNetwork(q), rtapError('op "r"', "requantization not directly after"));
  });

  test("a requant of a requant names the second one", () => {
    const g = new QGraphBuilder(new Rng(3));
    const x = g.input("x", [1, 5, 5]);
    const q = g.build(g.requant("twice", g.requant("once", g.conv("c", x, 2, [3, 3]))));
    assert.throws(() => compileNetwork(q), rtapError('op "twice"'));
  });

  test("a residual add of two convs with different output shapes names the add", () => {
    const g = new QGraphBuilder(new Rng(4));
    const x = g.input("x", [2, 8, 8]);
    const a = g.conv("a", x, 3, [3, 3], { pads: [1, 1, 1, 1] });
    const b = g.conv("b", x, 3, [3, 3], { stride: [2, 2], pads: [1, 1, 1, 1] });
    const q = g.build(g.add("bad add", a, b, [1, 1, 1], [1, 1, 1]));
    assert.throws(() => compileNetwork(q), rtapError('op "bad add"', "residual operands have different shapes [3,8,8] and [3,4,4]"));
  });

  test("a pooling window larger than the row's input region names the pool", () => {
    const g = new QGraphBuilder(new Rng(5));
    const x = g.input("x", [1, 23, 23]);
    const q = g.build(g.pool("maxpool", "huge pool", x, [23, 23], [1, 1]));
    assert.throws(() => compileNetwork(q), rtapError('op "huge pool"', "a 23x23 pooling window of 8-bit values does not fit the row's input region (256 values)"));
  });

  test("a value wider than 31 bits names the unit", () => {
    const g = new QGraphBuilder(new Rng(6));
    const x = g.input("x", [1, 4, 4]);
    const c = g.conv("c", x, 1, [3, 3], { pads: [1, 1, 1, 1], weights: new Int8Array(9).fill(1) });
    // c feeds the add twice, so it is its own unit and the add is an add unit: c in [0, 2295],
    // 2^19 * c - 2^19 * c spans +-1.2e9, which needs 32 bits signed
    const q = g.build(g.add("wide", c, c, [1 << 19], [-(1 << 19)]));
    assert.throws(() => compileNetwork(q), rtapError('unit "wide"', "a value needs 32 bits; the AP handles at most 31"));
  });
});

describe("architectures the compiler cannot use", () => {
  test("a row whose input region cannot hold the stem's 3x3 window of 8-bit codes names the conv", () => {
    // 16 tracks of 16 domains, ports at 0 and 8, 8 tracks per group: one IN group of 16 (track, port)
    // pairs x 1 level of 8-bit codes, all 16 taken by the threshold scratch cells
    const arch = archWith({ tracks: 16, tracksPerGroup: 8, domains: 16, portPositions: [0, 8], layout: "serial" });
    assert.throws(
      () => compileNetwork(fmnistQGraph(), { arch }),
      rtapError('op "/stem/stem.0/Conv_output_0"', "a 3x3 window of 8-bit inputs (9 values) does not fit the row's input region (0 values); use an architecture with more tracks per row"),
    );
  });

  test("a row with too few shift groups is refused up front (serial: 2, interleaved: 3)", () => {
    assert.throws(() => compileNetwork(fmnistQGraph(), { arch: archWith({ tracksPerGroup: 128, layout: "serial" }) }), rtapError("architecture: the RTM row has 1 shift group"));
    assert.throws(() => compileNetwork(fmnistQGraph(), { arch: archWith({ tracksPerGroup: 64 }) }), rtapError("architecture: the interleaved layout needs at least 3 shift groups", "this row has 2"));
  });

  test("a TMP slot narrower than a value: the error names the unit", () => {
    // ports 8 domains apart: a TMP slot holds 8 bits; the stem's sums of 8-bit pixels need 9 and more
    const arch = archWith({ tracks: 64, tracksPerGroup: 16, domains: 16, portPositions: [0, 8], layout: "serial" });
    assert.throws(() => compileNetwork(fmnistQGraph(), { arch }), rtapError('unit "/stem/stem.0/Conv_output_0"', "a 9-bit value needs 9 bits; a row slot holds 8"));
    // interleaved: a value lies on the tracks of one lane (16 here); the residual sums need more
    assert.throws(() => compileNetwork(fmnistQGraph(), { arch: archWith({ tracks: 64, tracksPerGroup: 16 }) }), rtapError('unit "/layers/', "bits; a lane of the row holds 16"));
  });

  test("a row with fewer scratch cells than a 15-threshold requant needs fails at compile time, naming the unit", () => {
    // 2 tracks per group x 2 ports: 4 scratch cells at level 0 of the first IN group
    const arch = archWith({ tracks: 8, tracksPerGroup: 2, layout: "serial" });
    assert.throws(() => compileNetwork(fmnistQGraph(), { arch }), rtapError('unit "/stem/stem.0/Conv_output_0"', "requantization needs up to 15 scratch cells", "this row offers 4"));
    // interleaved, 3-track banks: the hot pages offer 9 scratch cells (the staging lane excluded)
    assert.throws(() => compileNetwork(fmnistQGraph(), { arch: archWith({ tracks: 12, tracksPerGroup: 3 }) }), rtapError('unit "/stem/stem.0/Conv_output_0"', "requantization needs up to 15 scratch cells", "this row offers 9"));
    // without requantization the same row is fine: a conv-only network compiles and runs bit-exact
    const g = new QGraphBuilder(new Rng(7));
    const x = g.input("x", [1, 6, 6]);
    const q = g.build(g.conv("c", g.pool("maxpool", "p", x, [2, 2], [1, 1]), 2, [3, 3]));
    const net = compileNetwork(q, { arch, verify: true });
    const r = verifiedRun(net, randomPixels([1, 6, 6], 3, 8), 3, { mode: "bit" });
    assertBitExact(r, "conv-only network on a 4-scratch row");
  });
});
