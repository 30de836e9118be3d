/**
 * Ablation of each compiler pass on fmnist-resnet8, shared by ablation-*.test.ts (two files so the
 * runner spreads them over both cores). For each pass: compile with only that pass off (verifier
 * on), run the word-level simulator with events and the bit-level one on the same image, both
 * checked unit by unit against the integer reference, events of the two simulators identical,
 * and the pass's cost visible: the figure the pass exists to lower must be higher without it.
 * The default architecture is the interleaved RTM-AP (pages): there the reduction is the
 * page-streamed plan (src/compiler/streamed.ts), so the CSE and allocation passes show their
 * worth in domain-wall shifts rather than in additions (docs/compiler.md).
 */
import { describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import type { PassSwitches } from "../../src/compiler/lower.js";
import { compileNetwork, PASS_NAMES, runCompiled, type CompiledNetwork } from "../../src/compiler/pipeline.js";
import { OP_MAC, REGION_TMP } from "../../src/compiler/program.js";
import { RtapError } from "../../src/errors.js";
import { ablationFigures, assertBitExact, fmnistImages, fmnistQGraph, formatFigures, verifiedRun, type AblationFigures } from "./helpers.js";

/** Images per configuration (one is enough to see every cost; all units are checked on each). */
const IMAGES = 1;

interface Config {
  net: CompiledNetwork;
  figures: AblationFigures;
}

let baseline: Config | undefined;

function configure(t: TestContext, disable: (keyof PassSwitches)[], bitLevel: boolean): Config {
  const q = fmnistQGraph();
  const net = compileNetwork(q, { verify: true, disable });
  const { images } = fmnistImages(IMAGES);
  const fast = verifiedRun(net, images, IMAGES, { mode: "fast" });
  const name = disable.length ? `${PASS_NAMES[disable[0]!]} off` : "all passes";
  assertBitExact(fast, `${name}, word level`);
  if (bitLevel) {
    const bit = verifiedRun(net, images, IMAGES, { mode: "bit" });
    assertBitExact(bit, `${name}, bit level`);
    net.units.forEach((u, i) => assert.deepEqual(bit.unitEvents[i], fast.unitEvents[i], `${name}: events of unit ${u.unit.name}, bit level vs word level`));
  }
  const figures = ablationFigures(net, fast, name);
  t.diagnostic(formatFigures(figures));
  return { net, figures };
}

/** The full pipeline, word level only (its bit-level agreement is simulators.test.ts's first case). */
function base(t: TestContext): Config {
  baseline ??= configure(t, [], false);
  return baseline;
}

/** What each pass buys, as assertions on (full pipeline, pass off). */
const EXPECT: Record<keyof PassSwitches, { bit: boolean; check: (on: Config, off: Config, t: TestContext) => void }> = {
  weightFolding: {
    // weights stored in the row: every weight (zeros too) is a predicated add and a predicated subtract
    bit: false,
    check: (on, off) => {
      assert.ok(off.figures.events.searches > on.figures.events.searches, "more searches");
      assert.ok(off.figures.events.cycles > on.figures.events.cycles, "more cycles");
      let zeros = 0, weights = 0, macs = 0;
      for (const u of off.net.units) if (u.unit.kind === "conv") for (const t of u.unit.terms) for (const w of t.conv.weights) (weights++, w === 0 && zeros++);
      for (const u of off.net.units) for (let i = 0; i < u.program.nSteps; i++) if (u.program.op[i] === OP_MAC) macs++;
      assert.ok(zeros > 0);
      assert.equal(macs, weights, "one multiply-accumulate per stored weight, zeros included");
    },
  },
  interchange: {
    // one output channel at a time: receptive fields reloaded per channel, no sharing across o
    bit: false, // word level here; the bit level's agreement is shown on bitwidth and allocation (cells change) and in simulators.test.ts
    check: (on, off) => {
      for (const u of off.net.units) if (u.unit.kind === "conv" && !u.stationary) assert.equal(u.stats.blocks, u.unit.terms[0]!.conv.outChannels, `${u.unit.name}: one block per output channel`);
      // (latency is no measure here: the chip schedule runs its one-output blocks side by side)
      // the interleaved row's reduction shares nothing across outputs: one output per block adds no additions
      if (on.net.layout.kind === "interleaved") assert.ok(off.figures.events.shiftTrackDomains > on.figures.events.shiftTrackDomains, "more domain-wall shifts");
      else assert.ok(off.figures.addCycles > on.figures.addCycles, "more add cycles");
      assert.ok(off.figures.events.bufferWriteBits > on.figures.events.bufferWriteBits, "receptive fields loaded once per block");
      assert.ok(off.figures.events.transferBitsArray > on.figures.events.transferBitsArray);
    },
  },
  unroll: {
    // running sums per output: CSE cannot share across output channels
    bit: false, // word level here; the bit level's agreement is shown on bitwidth and allocation (cells change) and in simulators.test.ts
    check: (on, off) => {
      assert.ok(off.figures.addCycles > on.figures.addCycles, "more add cycles");
      // (trees without sharing, the interleaved row's plan, have as many additions as chains)
      if (on.net.layout.kind === "interleaved") assert.equal(off.figures.addsCompiled, on.figures.addsCompiled, "as many additions");
      else assert.ok(off.figures.addsCompiled > on.figures.addsCompiled, "more additions");
      // (latency is no measure here: the chip schedule runs its one-output blocks side by side)
      for (const u of off.net.units) assert.equal(u.stats.addsCompiled, u.stats.addsNaive, `${u.unit.name}: the naive chains`);
    },
  },
  cse: {
    // balanced trees per output, no sharing: additions back to the naive count
    bit: false, // word level here; the bit level's agreement is shown on bitwidth and allocation (cells change) and in simulators.test.ts
    check: (on, off) => {
      if (on.net.layout.kind === "interleaved") {
        // pass on: the page-streamed reduction; off: narrow-first trees in no page order
        assert.equal(off.figures.addsCompiled, on.figures.addsCompiled, "as many additions (neither shares)");
        assert.ok(off.figures.events.shiftTrackDomains > 1.5 * on.figures.events.shiftTrackDomains, "more domain-wall shifts");
      } else {
        assert.ok(off.figures.addsCompiled > on.figures.addsCompiled, "more additions");
        assert.ok(off.figures.addCycles > on.figures.addCycles, "more add cycles");
        assert.ok(off.figures.events.cycles > on.figures.events.cycles, "more cycles");
        assert.ok(off.figures.events.searches > on.figures.events.searches, "more searches");
      }
      for (const u of off.net.units) if (!u.stationary) assert.equal(u.stats.addsCompiled, u.stats.addsNaive, `${u.unit.name}: no shared partial sums`);
    },
  },
  bitwidth: {
    // every temporary 31 bits wide: each bit-serial op sweeps 31 bits
    bit: true,
    check: (on, off) => {
      for (const u of off.net.units) {
        const p = u.program;
        for (let id = 0; id < p.nValues; id++) if (p.region[id] === REGION_TMP) assert.equal(p.width[id], 31, `${u.unit.name}: ${p.name(id)}`);
      }
      assert.ok(off.figures.events.cycles > 2 * on.figures.events.cycles, "more than twice the cycles");
      assert.ok(off.figures.events.searchRowBits > on.figures.events.searchRowBits, "more searched bits");
      assert.ok(off.figures.events.shifts > on.figures.events.shifts, "more shifts");
    },
  },
  allocation: {
    // columns scattered over packing levels: more operand pairs out of lockstep, staged by copies
    bit: true,
    check: (on, off) => {
      if (on.net.layout.kind === "interleaved") {
        // codes not laid out in the order the reduction reads them: the input bank jumps between pages
        assert.ok(off.figures.events.shiftTrackDomains > 2 * on.figures.events.shiftTrackDomains, "more domain-wall shifts");
      } else {
        assert.ok(off.figures.stagingCopies > 2 * on.figures.stagingCopies, "more staging copies");
        assert.ok(off.figures.steps > on.figures.steps, "more steps");
      }
      assert.ok(off.figures.events.cycles > on.figures.events.cycles, "more cycles");
      assert.equal(off.figures.addsCompiled, on.figures.addsCompiled, "the same additions");
    },
  },
  layout: {
    // positions dealt round-robin over the arrays: neighbours sit in other arrays
    bit: false, // word level here; the bit level's agreement is shown on bitwidth and allocation (cells change) and in simulators.test.ts
    check: (on, off) => {
      for (const u of off.net.units) if (!u.stationary) assert.equal(u.mapping.raster, false);
      assert.ok(off.figures.events.transferBitsArray > 5 * on.figures.events.transferBitsArray, "tile-bus traffic");
      assert.deepEqual([off.figures.events.searches, off.figures.events.writeCells], [on.figures.events.searches, on.figures.events.writeCells], "compute unchanged");
    },
  },
  movement: {
    // activations kept off-array: every load and store through the global buffer
    bit: false, // word level here; the bit level's agreement is shown on bitwidth and allocation (cells change) and in simulators.test.ts
    check: (on, off) => {
      assert.ok(off.figures.events.transferBitsChip > 10 * on.figures.events.transferBitsChip, "global-buffer traffic");
      assert.equal(off.figures.events.transferBitsArray, 0);
      assert.deepEqual([off.figures.events.searches, off.figures.events.writeCells], [on.figures.events.searches, on.figures.events.writeCells], "compute unchanged");
    },
  },
};

export function ablationSuite(passes: (keyof PassSwitches)[]): void {
  describe(`ablation on fmnist-resnet8 (${passes.map((p) => PASS_NAMES[p]).join(", ")})`, () => {
    for (const pass of passes) {
      const e = EXPECT[pass];
      test(`${PASS_NAMES[pass]} off: bit-exact on the word level${e.bit ? " and the bit level (identical events)" : ""}, and its cost shows`, (t) => {
        const on = base(t);
        const off = configure(t, [pass], e.bit);
        e.check(on, off, t);
      });
    }
  });
}

/** Weight folding off runs on the word level only: the bit level says so cleanly. */
export function weightFoldingBitLevelRefused(): void {
  test("weight-folding off on the bit level: a clean RtapError pointing to --sim fast", () => {
    const net = compileNetwork(fmnistQGraph(), { disable: ["weightFolding"] });
    const { images } = fmnistImages(1);
    assert.throws(() => runCompiled(net, images, 1, { mode: "bit" }), (e: unknown) => e instanceof RtapError && /weight folding off is not supported.*use --sim fast/.test(e.message));
  });
}
