import { test } from "node:test";
import assert from "node:assert/strict";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { RtapError } from "../../src/errors.js";
import { loadApTechnology } from "../../src/cost/technology.js";
import { apCost, apCostPerLayer, type ApEventCounts } from "../../src/cost/ap.js";

const here = dirname(fileURLToPath(import.meta.url));
const tiny = loadApTechnology(join(here, "fixtures", "tiny-ap.yaml"));

const fJ = 1e-15;
function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-12 * Math.abs(expected), `${what}: ${actual} vs ${expected}`);
}

const events: ApEventCounts = {
  searches: 10,
  searchRowBits: 200,
  flagSearchRowBits: 30,
  writes: 4,
  writeCells: 50,
  flagWriteCells: 6,
  tagOps: 3,
  shifts: 5,
  shiftTrackDomains: 120,
  bufferReadBits: 64,
  bufferWriteBits: 32,
  transferBitsArray: 100,
  transferBitsTile: 40,
  transferBitHopsTile: 80,
  transferBitsChip: 16,
  cycles: 1000,
};

test("apCost prices a hand-made event record per component exactly as the formulas say", () => {
  const c = apCost(events, tiny);
  // search: 200 row-bits x 1 fJ + 10 searches x 8 rows x 10 fJ (match lines) + 30 flag bits x 2 fJ
  close(c.energy.search, 1060 * fJ, "search");
  // write: 50 cells x 100 fJ + 4 ops x 1000 fJ + 6 flag cells x 3 fJ
  close(c.energy.write, 9018 * fJ, "write");
  close(c.energy.shift, 120 * 50 * fJ, "shift");
  // periphery: 22 micro-ops x 5 fJ + 3 tag ops x 8 rows x 4 fJ
  close(c.energy.periphery, 206 * fJ, "periphery");
  // movement: row reads 64 x 20 + row writes 32 x 100 + wires (200 fJ/bit/mm x 0.5 toggle):
  // 100 bits x 0.1 mm + 40 bits x 1 mm + 16 chip bits x 1 mm, + 80 bit-hops x 7 fJ
  close(c.energy.movement, (1280 + 3200 + 1000 + 4000 + 1600 + 560) * fJ, "movement");
  close(c.energy.buffers, 16 * 40 * fJ, "global buffer: 16 bits x mean(30, 50) fJ");
  close(c.latencyS, 1000 * 2e-9, "latency: 1000 cycles x 2 ns");
  close(c.energy.leakage, 6 * 1e-6 * 2e-6, "leakage: 3 tiles x 2 arrays x 1 uW x 2 us");
  close(c.energyJ, (1060 + 9018 + 6000 + 206 + 11640 + 640 + 12000) * fJ, "total");
  // area: per track 1 port cell (1 um2) + 7 extra domains x 0.5 um2; 8 rows x 4 tracks; +100 um2 periphery per array
  close(c.areaMm2, (3 * (2 * (8 * 4 * 4.5 + 100) + 1000)) * 1e-6, "area");
  assert.equal(c.arrays, 6);
});

test("apCost uses the program's machine shape when given, and sums layers", () => {
  const shape = { tiles: 1, arraysPerTile: 4, rows: 16, tracksPerRow: 4, domainsPerTrack: 1, portsPerTrack: 1 };
  const c = apCost(events, tiny, shape);
  close(c.energy.search, (200 + 10 * 16 * 10 + 60) * fJ, "match lines scale with the real rows");
  close(c.areaMm2, (4 * (16 * 4 * 1 + 100) + 1000) * 1e-6, "area without extra domains");
  const per = apCostPerLayer([{ name: "a", events }, { name: "b", events }], tiny);
  close(per.total.energyJ, 2 * apCost(events, tiny).energyJ, "two identical layers");
  close(per.total.latencyS, 2 * 2e-6, "latencies add");
});

test("apCost rejects impossible event counts with an RtapError", () => {
  assert.throws(() => apCost({ ...events, writeCells: -1 }, tiny), (e: unknown) => e instanceof RtapError && /writeCells/.test(e.message));
});

test("the shipped RTM-AP and SRAM-AP files price the same events; SRAM never pays for shifts", () => {
  const rtm = apCost(events, loadApTechnology("rtm-ap"));
  const sram = apCost(events, loadApTechnology("sram-ap"));
  assert.ok(rtm.energy.shift > 0);
  assert.equal(sram.energy.shift, 0);
  assert.ok(rtm.energy.write > sram.energy.write, "an RTM domain write costs more than an SRAM cell write");
});
