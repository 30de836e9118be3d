/**
 * Architecture files for the AP machine (configs/arch/*.yaml): the three-level hierarchy
 * (chip -> tiles -> arrays), the geometry of one array (rows; tracks per row, domains per track,
 * access ports and their positions, which tracks shift together; static flag bits per row) and the
 * cycle count of every micro-op. Two technologies share one format:
 *  - `rtm`: racetrack-memory CAM; each row is `tracksPerRow` nanowires of `domainsPerTrack` bits;
 *    only the bits under the `portsPerTrack` ports take part in a search or write; shifting a
 *    group of tracks moves other bits under the ports.
 *  - `sram`: CMOS SRAM-CAM; every bit is its own column (`columnsPerRow`), nothing shifts.
 *
 * Every number is written `{ value, unit, source }` or `{ value, unit, assumption: true, note }`,
 * so each default says where it comes from. Validation errors name the file, the field and the
 * allowed range.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import * as z from "zod";
import { RtapError } from "../errors.js";
import { readSourcedFile, sourcedObject, type Override } from "../util/sourced-yaml.js";

export type ApTechnology = "rtm" | "sram";
/**
 * Where a value's bits lie in an RTM row:
 *  - `interleaved` (the racetrack norm, RTSim's default): bit i on track i, all bits at one domain
 *    index (a *page*); a value is read with no shift once its group's page is under the ports;
 *  - `serial`: bits along one track (one shift per bit step), the worst case for shifts, kept to
 *    compare against. SRAM rows never shift; their layout is `interleaved` by convention.
 */
export type RowLayoutKind = "interleaved" | "serial";
export type Interconnect = "mesh" | "htree";

/** Geometry of one AP array (the unit that runs micro-ops SIMD over its rows). */
export interface ArraySpec {
  technology: ApTechnology;
  rows: number;
  /** RTM: nanowires per row. SRAM: columns per row (each a 1-domain "track"). */
  tracks: number;
  /** Bits along each track (1 for SRAM). */
  domains: number;
  /** Access ports per track (1 for SRAM). */
  ports: number;
  /** Domain index under each port when the track is at its home position (offset 0). */
  portPositions: readonly number[];
  /** Tracks that shift together (a domain-block cluster); tracks/tracksPerGroup groups per row. */
  tracksPerGroup: number;
  /** Static per-row flag bits (carry, sign, comparison flags): searchable and writable, never shifted. */
  flags: number;
  /** How the compiler lays values out in a row (RTM; absent = interleaved); see RowLayoutKind. */
  layout?: RowLayoutKind;
}

/** Cycles of every micro-op, and the widths of the movement paths. */
export interface ApTiming {
  clockMHz: number;
  compare: number;
  write: number;
  shiftPerDomain: number;
  tagOp: number;
  bufferRead: number;
  bufferWrite: number;
  /** Tile bus between the arrays of a tile: bits per beat and cycles per beat. */
  arrayBusBits: number;
  arrayBusCycles: number;
  /** Tile-to-tile link: bits per beat, cycles per beat, and cycles per router hop. */
  tileLinkBits: number;
  tileLinkCycles: number;
  tileHopCycles: number;
  /** Array buffer <-> chip global buffer: bits per beat and cycles per beat. */
  globalBusBits: number;
  globalBusCycles: number;
}

/** A loaded, validated architecture. */
export interface ApArch {
  name: string;
  description: string;
  /** The file it came from (undefined when built in code). */
  file: string | undefined;
  tiles: number;
  interconnect: Interconnect;
  arraysPerTile: number;
  /**
   * Independent micro-op streams per tile (controllers); each drives arraysPerTile / this arrays.
   * Undefined: 1, the SIMD tile of the design brief.
   */
  controllersPerTile?: number;
  array: ArraySpec;
  timing: ApTiming;
  /** Provenance of every number: dotted field path -> source text, or "assumption: <note>". */
  sources: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Schema

interface RawParam<V> {
  value: V;
  unit: string;
  source?: string | undefined;
  assumption?: true | undefined;
  note?: string | undefined;
}

function provenance<V>(value: z.ZodType<V>, units: readonly [string, ...string[]]) {
  return z
    .strictObject({
      value,
      unit: z.enum(units, { error: `unit must be ${units.join(" or ")}` }),
      source: z.string().min(1, "source must not be empty").optional(),
      assumption: z.literal(true, { error: "assumption may only be true (omit it otherwise)" }).optional(),
      note: z.string().min(1).optional(),
    })
    .superRefine((p, ctx) => {
      if (p.source === undefined && p.assumption === undefined)
        ctx.addIssue({ code: "custom", message: "every number needs a `source`, or `assumption: true` with a `note`" });
      if (p.assumption && p.note === undefined)
        ctx.addIssue({ code: "custom", message: "an assumption needs a `note` saying why the value was chosen" });
    });
}

function intIn(min: number, max: number) {
  const msg = `must be an integer in ${min}..${max}`;
  return z
    .number({ error: (iss) => `${msg} (got ${JSON.stringify(iss.input)})` })
    .refine((v) => Number.isInteger(v) && v >= min && v <= max, { error: (iss) => `${msg} (got ${String(iss.input)})` });
}

function count(min: number, max: number, units: readonly [string, ...string[]]) {
  return provenance(intIn(min, max), units);
}

const cycles = () => count(1, 1_000_000, ["cycles"]);
const bits = () => count(1, 1 << 20, ["bits"]);

const header = {
  kind: z.literal("ap-arch", { error: 'kind must be "ap-arch"' }),
  version: z.literal(1, { error: "version must be 1" }),
  name: z.string().min(1),
  description: z.string().min(1),
};

const chipSection = z.strictObject({
  tiles: count(1, 65536, ["tiles"]),
  interconnect: z.enum(["mesh", "htree"], { error: 'interconnect must be "mesh" or "htree"' }),
});

const tileSection = z.strictObject({
  arrays: count(1, 4096, ["arrays"]),
  controllers: count(1, 4096, ["controllers"]).optional(),
});

const rtmArraySection = z.strictObject({
  rows: count(1, 1 << 20, ["rows"]),
  tracksPerRow: count(1, 4096, ["tracks"]),
  domainsPerTrack: count(1, 4096, ["domains"]),
  portsPerTrack: count(1, 4096, ["ports"]),
  portPositions: provenance(z.array(intIn(0, 4095)).min(1, "needs at least one port position"), ["domains"]),
  tracksPerShiftGroup: count(1, 4096, ["tracks"]),
  flagColumns: count(0, 64, ["bits"]),
  layout: z.enum(["interleaved", "serial"], { error: 'layout must be "interleaved" or "serial"' }).optional(),
});

const sramArraySection = z.strictObject({
  rows: count(1, 1 << 20, ["rows"]),
  columnsPerRow: count(1, 1 << 16, ["columns"]),
  flagColumns: count(0, 64, ["bits"]),
});

const timingSection = z.strictObject({
  clockMHz: provenance(
    z.number({ error: "must be a number > 0" }).refine((v) => Number.isFinite(v) && v > 0, "must be a number > 0"),
    ["MHz"],
  ),
  compare: cycles(),
  write: cycles(),
  shiftPerDomain: cycles(),
  tagOp: cycles(),
  bufferRead: cycles(),
  bufferWrite: cycles(),
  arrayBusBits: bits(),
  arrayBusCycles: cycles(),
  tileLinkBits: bits(),
  tileLinkCycles: cycles(),
  tileHopCycles: cycles(),
  globalBusBits: bits(),
  globalBusCycles: cycles(),
});

const rtmFile = z.strictObject({
  ...header,
  technology: z.literal("rtm"),
  chip: chipSection,
  tile: tileSection,
  array: rtmArraySection,
  timing: timingSection,
});

const sramFile = z.strictObject({
  ...header,
  technology: z.literal("sram"),
  chip: chipSection,
  tile: tileSection,
  array: sramArraySection,
  timing: timingSection,
});

// ---------------------------------------------------------------------------------------------
// Loading

/** Names of the architecture files shipped in configs/arch. */
export const BUILTIN_ARCHS = ["rtm-ap", "rtm-ap-serial", "sram-ap"] as const;
export type BuiltinArch = (typeof BUILTIN_ARCHS)[number];

/** configs/arch of this installation (works from src/ under tsx and from dist/src/ when built). */
export function archConfigDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, "configs", "arch");
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error("rtap installation is missing configs/arch");
}

/**
 * Loads an architecture: a built-in name (`rtm-ap`, `rtm-ap-serial`, `sram-ap`) or a path to a YAML file.
 * Throws RtapError naming the file and field on any problem.
 */
export function loadArch(nameOrPath: string, overrides: readonly Override[] = []): ApArch {
  const file = archFilePath(nameOrPath);
  const where = isBuiltinArch(nameOrPath) ? `configs/arch/${nameOrPath}.yaml` : nameOrPath;
  const d = readSourcedFile(file, where, `cannot read architecture file (built-in architectures: ${BUILTIN_ARCHS.join(", ")})`);
  return parseArchObject(sourcedObject(d, overrides), where);
}

function isBuiltinArch(nameOrPath: string): boolean {
  return (BUILTIN_ARCHS as readonly string[]).includes(nameOrPath);
}

/** The file a built-in name (configs/arch/<name>.yaml) or a path stands for. */
export function archFilePath(nameOrPath: string): string {
  return isBuiltinArch(nameOrPath) ? join(archConfigDir(), `${nameOrPath}.yaml`) : resolve(nameOrPath);
}

/** Parses and validates the text of an architecture file; `where` names it in error messages. */
export function parseArch(text: string, where = "<architecture>"): ApArch {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new RtapError(`not valid YAML: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`, where);
  }
  return parseArchObject(doc, where);
}

/** Validates a parsed architecture file (a plain object); `where` names it in error messages. */
export function parseArchObject(doc: unknown, where = "<architecture>"): ApArch {
  if (typeof doc !== "object" || doc === null) throw new RtapError("expected a YAML mapping", where);
  const tech = (doc as Record<string, unknown>)["technology"];
  if (tech !== "rtm" && tech !== "sram")
    throw new RtapError(`technology: must be "rtm" or "sram" (got ${JSON.stringify(tech)})`, where);
  const schema = tech === "rtm" ? rtmFile : sramFile;
  const parsed = schema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String).join(".") || "(top level)";
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more problem(s))` : "";
    throw new RtapError(`${path}: ${issue.message}${more}`, where);
  }
  const f = parsed.data;
  const sources: Record<string, string> = {};
  collectSources(f, "", sources);
  let array: ArraySpec;
  if (f.technology === "rtm") {
    const a = f.array;
    array = {
      technology: "rtm",
      rows: a.rows.value,
      tracks: a.tracksPerRow.value,
      domains: a.domainsPerTrack.value,
      ports: a.portsPerTrack.value,
      portPositions: [...a.portPositions.value],
      tracksPerGroup: a.tracksPerShiftGroup.value,
      flags: a.flagColumns.value,
      layout: a.layout ?? "interleaved",
    };
    checkRtmGeometry(array, where);
  } else {
    const a = f.array;
    array = {
      technology: "sram",
      rows: a.rows.value,
      tracks: a.columnsPerRow.value,
      domains: 1,
      ports: 1,
      portPositions: [0],
      tracksPerGroup: a.columnsPerRow.value,
      flags: a.flagColumns.value,
      layout: "interleaved",
    };
  }
  if (f.tile.controllers && f.tile.arrays.value % f.tile.controllers.value !== 0) {
    throw new RtapError(`tile.controllers (${f.tile.controllers.value}) must divide tile.arrays (${f.tile.arrays.value}): each controller drives as many arrays`, where);
  }
  const t = f.timing;
  return {
    name: f.name,
    description: f.description,
    file: where,
    tiles: f.chip.tiles.value,
    interconnect: f.chip.interconnect,
    arraysPerTile: f.tile.arrays.value,
    ...(f.tile.controllers ? { controllersPerTile: f.tile.controllers.value } : {}),
    array,
    timing: {
      clockMHz: t.clockMHz.value,
      compare: t.compare.value,
      write: t.write.value,
      shiftPerDomain: t.shiftPerDomain.value,
      tagOp: t.tagOp.value,
      bufferRead: t.bufferRead.value,
      bufferWrite: t.bufferWrite.value,
      arrayBusBits: t.arrayBusBits.value,
      arrayBusCycles: t.arrayBusCycles.value,
      tileLinkBits: t.tileLinkBits.value,
      tileLinkCycles: t.tileLinkCycles.value,
      tileHopCycles: t.tileHopCycles.value,
      globalBusBits: t.globalBusBits.value,
      globalBusCycles: t.globalBusCycles.value,
    },
    sources,
  };
}

/** Cross-field checks the schema cannot express; every message names the field. */
export function checkRtmGeometry(a: ArraySpec, where: string): void {
  const field = (f: string) => `${where}: array.${f}`;
  if (a.ports > a.domains)
    throw new RtapError(`must be at most domainsPerTrack = ${a.domains} (got ${a.ports})`, field("portsPerTrack"));
  if (a.portPositions.length !== a.ports)
    throw new RtapError(
      `lists ${a.portPositions.length} position(s) but portsPerTrack is ${a.ports}; give one domain index per port`,
      field("portPositions"),
    );
  for (let k = 0; k < a.portPositions.length; k++) {
    const p = a.portPositions[k]!;
    if (p >= a.domains)
      throw new RtapError(`position ${p} is outside the track (allowed 0..${a.domains - 1})`, field("portPositions"));
    if (k > 0 && p <= a.portPositions[k - 1]!)
      throw new RtapError("positions must be strictly increasing", field("portPositions"));
  }
  const unreachable = unreachableDomains(a);
  if (unreachable.length > 0)
    throw new RtapError(
      `with ports at [${a.portPositions.join(", ")}] on ${a.domains}-domain tracks, domains ${rangeText(unreachable)} ` +
        `can never be brought under a port (shift range ${minOffset(a)}..${maxOffset(a)}); space the ports at most ` +
        `${a.domains - (a.portPositions[a.portPositions.length - 1]! - a.portPositions[0]!)} apart`,
      field("portPositions"),
    );
  if (a.tracksPerGroup > a.tracks || a.tracks % a.tracksPerGroup !== 0)
    throw new RtapError(
      `must divide tracksPerRow = ${a.tracks} (got ${a.tracksPerGroup})`,
      field("tracksPerShiftGroup"),
    );
}

/** Smallest legal shift offset: the lowest port may not leave the track. */
export function minOffset(a: ArraySpec): number {
  return -a.portPositions[0]!;
}

/** Largest legal shift offset: the highest port may not leave the track. */
export function maxOffset(a: ArraySpec): number {
  return a.domains - 1 - a.portPositions[a.portPositions.length - 1]!;
}

function unreachableDomains(a: ArraySpec): number[] {
  const lo = minOffset(a);
  const hi = maxOffset(a);
  const out: number[] = [];
  for (let d = 0; d < a.domains; d++) {
    if (!a.portPositions.some((p) => d - p >= lo && d - p <= hi)) out.push(d);
  }
  return out;
}

function rangeText(ds: number[]): string {
  return ds.length === 1 ? String(ds[0]) : `${ds[0]}..${ds[ds.length - 1]}`;
}

function collectSources(node: unknown, path: string, out: Record<string, string>): void {
  if (typeof node !== "object" || node === null || Array.isArray(node)) return;
  const rec = node as Record<string, unknown>;
  if ("value" in rec && "unit" in rec) {
    const p = rec as unknown as RawParam<unknown>;
    out[path] = p.source ?? `assumption: ${p.note ?? ""}`;
    return;
  }
  for (const [k, v] of Object.entries(rec)) collectSources(v, path ? `${path}.${k}` : k, out);
}
