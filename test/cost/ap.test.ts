/**
 * AP pricing: the generic sum (count x price per event kind, grouped into components), one
 * hand-computed case per kind, the shift price scaling with the architecture's domains per track,
 * area from the architecture's geometry, and the shipped technology scenarios.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RtapError } from "../../src/errors.js";
import { archConfigDir, loadArch, parseArch } from "../../src/ap/config.js";
import { EVENT_KINDS, zeroEvents, type ApEvents } from "../../src/ap/events.js";
import { loadApTechnology, RTM_SCENARIOS } from "../../src/cost/technology.js";
import {
  AP_KIND_COMPONENT,
  AP_PRICED_KINDS,
  apCost,
  apCostPerLayer,
  apKindCounts,
  apPrices,
  type ApEventCounts,
  type ApPricedKind,
  type ApShape,
} from "../../src/cost/ap.js";
import { repoPath } from "../repo.js";

const here = repoPath("test", "cost");
const tiny = loadApTechnology(join(here, "fixtures", "tiny-ap.yaml"));
/** 3 tiles x 2 arrays of 8 rows; 4 tracks of 8 domains with 1 port each. */
const SHAPE: ApShape = { tiles: 3, arraysPerTile: 2, rows: 8, tracksPerRow: 4, domainsPerTrack: 8, portsPerTrack: 1 };

const fJ = 1e-15;
function close(actual: number, expected: number, what: string, rel = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected) || actual === expected, `${what}: ${actual} vs ${expected}`);
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

/**
 * Each simulator counter alone (= 1, or 1000 cycles) and the energy it must cost on the tiny file
 * and SHAPE, by hand: prices from tiny-ap.yaml, R = 8 rows, 8 domains per track, 6 arrays, 2 ns clock.
 * Wire: 200 fJ/bit/mm x 0.5 toggle = 100 fJ/bit/mm.
 */
const ONE_COUNTER: Array<[counter: keyof ApEvents, value: number, joules: number, why: string]> = [
  ["searchRowBits", 1, 1 * fJ, "search_row_bits: 1 fJ"],
  ["searches", 1, (8 * 10 + 5) * fJ, "search_rows: 8 rows x 10 fJ match line, + micro_ops 5 fJ"],
  ["flagSearchRowBits", 1, 2 * fJ, "flag_search_row_bits: 2 fJ"],
  ["writeCells", 1, 100 * fJ, "write_cells: 100 fJ"],
  ["writes", 1, 5 * fJ, "micro_ops: 5 fJ (a write op has no price of its own)"],
  ["flagWriteCells", 1, 3 * fJ, "flag_write_cells: 3 fJ"],
  ["tagOps", 1, (8 * 4 + 5) * fJ, "tag_row_ops: 8 rows x 4 fJ, + micro_ops 5 fJ"],
  ["shifts", 1, 5 * fJ, "micro_ops: 5 fJ"],
  ["shiftSteps", 1, 0, "not priced (latency)"],
  ["shiftTrackDomains", 1, 5 * 8 * fJ, "shift_track_domains: 5 fJ per domain-length x 8 domains per track"],
  ["bufferReadBits", 1, 20 * fJ, "buffer_read_bits: 20 fJ"],
  ["bufferWriteBits", 1, 60 * fJ, "buffer_write_bits: 60 fJ"],
  ["transferBitsArray", 1, 100 * 0.1 * fJ, "transfer_bits_array: 100 fJ/bit/mm x 0.1 mm"],
  ["transferBitsTile", 1, 100 * 1 * fJ, "transfer_bits_tile: 100 fJ/bit/mm x 1 mm"],
  ["transferBitHopsTile", 1, 7 * fJ, "transfer_bit_hops_tile: router 7 fJ"],
  ["transferBitsChip", 1, (100 + (30 + 50) / 2) * fJ, "transfer_bits_chip: 100 fJ wire + global_buffer_bits (30 + 50) / 2 fJ"],
  ["cycles", 1000, 6 * 1e-6 * 1000 * 2e-9, "array_seconds: 6 arrays x 1000 cycles x 2 ns x 1 uW"],
];

test("one hand-computed case per event counter: the energy it costs alone", () => {
  assert.deepEqual(ONE_COUNTER.map((c) => c[0]).sort(), [...EVENT_KINDS].sort(), "every simulator counter has a case");
  for (const [counter, value, joules, why] of ONE_COUNTER) {
    const e = zeroEvents();
    e[counter] = value;
    close(apCost(e, tiny, SHAPE).energyJ, joules, `${counter} (${why})`);
  }
});

test("pricing is the generic sum: energy per kind = count x price, components = the documented grouping", () => {
  const c = apCost(events, tiny, SHAPE);
  const latency = 1000 * 2e-9;
  const counts = apKindCounts(events, SHAPE, latency);
  assert.deepEqual(counts, {
    search_row_bits: 200,
    search_rows: 10 * 8,
    flag_search_row_bits: 30,
    write_cells: 50,
    flag_write_cells: 6,
    shift_track_domains: 120,
    micro_ops: 10 + 4 + 5 + 3,
    tag_row_ops: 3 * 8,
    buffer_read_bits: 64,
    buffer_write_bits: 32,
    transfer_bits_array: 100,
    transfer_bits_tile: 40,
    transfer_bit_hops_tile: 80,
    transfer_bits_chip: 16,
    global_buffer_bits: 16,
    array_seconds: 6 * latency,
  });
  const price: Record<ApPricedKind, number> = {
    search_row_bits: 1 * fJ,
    search_rows: 10 * fJ,
    flag_search_row_bits: 2 * fJ,
    write_cells: 100 * fJ,
    flag_write_cells: 3 * fJ,
    shift_track_domains: 5 * 8 * fJ,
    micro_ops: 5 * fJ,
    tag_row_ops: 4 * fJ,
    buffer_read_bits: 20 * fJ,
    buffer_write_bits: 60 * fJ,
    transfer_bits_array: 10 * fJ,
    transfer_bits_tile: 100 * fJ,
    transfer_bit_hops_tile: 7 * fJ,
    transfer_bits_chip: 100 * fJ,
    global_buffer_bits: 40 * fJ,
    array_seconds: 1e-6,
  };
  const table = apPrices(tiny, SHAPE);
  let total = 0;
  const byComponent: Record<string, number> = {};
  for (const k of AP_PRICED_KINDS) {
    close(table[k].joules, price[k], `price of ${k}`);
    close(c.kindEnergy[k], counts[k] * price[k], `energy of ${k}`);
    total += counts[k] * price[k];
    byComponent[AP_KIND_COMPONENT[k]] = (byComponent[AP_KIND_COMPONENT[k]] ?? 0) + counts[k] * price[k];
  }
  close(c.energyJ, total, "total = sum over kinds");
  for (const [comp, j] of Object.entries(byComponent)) close(c.energy[comp as keyof typeof c.energy], j, comp);
  // the same by hand, component by component (fJ)
  close(c.energy.search, (200 + 80 * 10 + 60) * fJ, "search");
  close(c.energy.write, (5000 + 18) * fJ, "write");
  close(c.energy.shift, 120 * 40 * fJ, "shift");
  close(c.energy.periphery, (22 * 5 + 24 * 4) * fJ, "periphery");
  close(c.energy.movement, (1280 + 1920 + 1000 + 4000 + 560 + 1600) * fJ, "movement");
  close(c.energy.buffers, 16 * 40 * fJ, "buffers");
  close(c.energy.leakage, 6 * 1e-6 * latency, "leakage");
  close(c.latencyS, latency, "latency: 1000 cycles x 2 ns");
  assert.equal(c.arrays, 6);
  // area: per track 1 port cell (1 um2) + 7 further domains x 0.5 um2; 8 rows x 4 tracks; +100 um2 per array; +1000 um2 per tile
  close(c.areaMm2, 3 * (2 * (8 * 4 * 4.5 + 100) + 1000) * 1e-6, "area");
});

test("per-layer pricing sums layers; impossible event counts are RtapErrors", () => {
  const per = apCostPerLayer([{ name: "a", events }, { name: "b", events }], tiny, SHAPE);
  close(per.total.energyJ, 2 * apCost(events, tiny, SHAPE).energyJ, "two identical layers");
  close(per.total.latencyS, 2 * 2e-6, "latencies add");
  close(per.total.counts.search_rows, 2 * 80, "counts add");
  assert.throws(() => apCost({ ...events, writeCells: -1 }, tiny, SHAPE), (e: unknown) => e instanceof RtapError && /writeCells/.test(e.message));
});

/** configs/arch/rtm-ap.yaml with another number of domains per track (ports re-spaced to reach every domain). */
function rtmArchWithDomains(domains: number) {
  const text = readFileSync(join(archConfigDir(), "rtm-ap.yaml"), "utf8");
  const edited = text
    .replace(/domainsPerTrack: \{ value: \d+/, `domainsPerTrack: { value: ${domains}`)
    .replace(/portPositions: \{ value: \[[^\]]*\]/, `portPositions: { value: [0, ${domains / 2}]`);
  const arch = parseArch(edited, `rtm-ap with ${domains} domains`);
  assert.equal(arch.array.domains, domains, "the edit took");
  return arch;
}

test("the shift price is the file's energy per domain-length x the architecture's domains per track", () => {
  const rtm = loadApTechnology("rtm-ap");
  const perLength = rtm.prices.shift_track_domains.value;
  close(perLength, 3.1e-15, "3.1 fJ per domain-length");
  const arch = loadArch("rtm-ap");
  close(apPrices(rtm, arch).shift_track_domains.joules, perLength * arch.array.domains, "shipped architecture");
  const a32 = rtmArchWithDomains(32);
  const a128 = rtmArchWithDomains(128);
  assert.equal(a32.array.domains, 32);
  assert.equal(a128.array.domains, 128);
  close(apPrices(rtm, a32).shift_track_domains.joules, 32 * 3.1e-15, "32 domains");
  close(apPrices(rtm, a128).shift_track_domains.joules, 128 * 3.1e-15, "128 domains");
  const shiftOnly: ApEventCounts = { ...zeroEvents(), shiftTrackDomains: 1e6 };
  close(apCost(shiftOnly, rtm, a128).energy.shift, 4 * apCost(shiftOnly, rtm, a32).energy.shift, "4x longer tracks, 4x the shift energy");
  // the DESTINY scenario gives back RTSim's 0.609 pJ per track-shift on its 64-domain tracks
  close(apPrices(loadApTechnology("rtm-ap-destiny"), rtmArchWithDomains(64)).shift_track_domains.joules, 0.609e-12, "destiny, 64 domains");
  // longer tracks: more area per track (further domains), the same port cells
  assert.ok(apCost(events, rtm, a128).areaMm2 > apCost(events, rtm, a32).areaMm2);
});

test("the shipped RTM scenarios price the same events low < typical < DESTINY; SRAM never pays for shifts", () => {
  const arch = loadArch("rtm-ap");
  const big: ApEventCounts = {
    searches: 1e5, searchRowBits: 1e9, flagSearchRowBits: 1e8, writes: 1e5, writeCells: 1e7, flagWriteCells: 1e7,
    tagOps: 1e4, shifts: 1e5, shiftTrackDomains: 1e8, bufferReadBits: 1e6, bufferWriteBits: 1e6,
    transferBitsArray: 1e7, transferBitsTile: 1e6, transferBitHopsTile: 2e6, transferBitsChip: 1e6, cycles: 1e5,
  };
  const [typical, low, destiny] = RTM_SCENARIOS.map((n) => apCost(big, loadApTechnology(n), arch));
  assert.deepEqual([...RTM_SCENARIOS], ["rtm-ap", "rtm-ap-low", "rtm-ap-destiny"]);
  for (const comp of ["shift", "write"] as const) {
    assert.ok(low!.energy[comp] < typical!.energy[comp] && typical!.energy[comp] < destiny!.energy[comp], `${comp}: ${low!.energy[comp]} < ${typical!.energy[comp]} < ${destiny!.energy[comp]}`);
  }
  assert.ok(low!.energyJ < typical!.energyJ && typical!.energyJ < destiny!.energyJ);
  // same clock, same area, same periphery and movement wires in all three
  assert.equal(low!.latencyS, destiny!.latencyS);
  assert.equal(low!.areaMm2, typical!.areaMm2);
  assert.equal(low!.energy.periphery, destiny!.energy.periphery);
  const sram = apCost(big, loadApTechnology("sram-ap"), loadArch("sram-ap"));
  assert.equal(sram.energy.shift, 0);
});
