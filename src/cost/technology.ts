/**
 * Loading technology files: `loadTechnology("crossbar-isaac")` reads configs/tech/crossbar-isaac.yaml,
 * `loadTechnology("my/file.yaml")` reads a path. The file is parsed (yaml), validated (zod, every
 * error names the file and the field), every number is converted to SI and scaled to the file's
 * node, and an `interconnect: <name>` reference is resolved to that interconnect file's section.
 */
import { readFileSync, existsSync } from "node:fs";
import { dirname, join, resolve, basename } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml, YAMLParseError } from "yaml";
import * as z from "zod";
import { RtapError } from "../errors.js";
import { resolveParams, type Resolved } from "./params.js";
import { readSourcedFile, sourcedObject, type Override } from "../util/sourced-yaml.js";
import {
  technologyFile,
  type ApFileRaw,
  type CrossbarFileRaw,
  type InterconnectFileRaw,
  type InterconnectSectionRaw,
  type ReferenceFileRaw,
} from "./schema.js";

export type InterconnectSection = Resolved<InterconnectSectionRaw>;

interface Loaded {
  /** Absolute path of the file that was read. */
  file: string;
}

export type InterconnectTechnology = Resolved<InterconnectFileRaw> & Loaded;
export type ApTechnology = Resolved<Omit<ApFileRaw, "interconnect">> &
  Loaded & { interconnect: InterconnectSection; interconnectFile: string | undefined };
export type CrossbarTechnology = Resolved<Omit<CrossbarFileRaw, "interconnect">> &
  Loaded & { interconnect: InterconnectSection; interconnectFile: string | undefined };
export type ReferenceTechnology = Resolved<ReferenceFileRaw> & Loaded;
export type Technology = InterconnectTechnology | ApTechnology | CrossbarTechnology | ReferenceTechnology;

/** configs/tech of this checkout (found by walking up to package.json, so src/ and dist/ both work). */
export function techDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "configs"))) return join(dir, "configs", "tech");
    dir = dirname(dir);
  }
  throw new Error("internal: cannot find rtap's configs/tech directory");
}

/** Names of the technology files shipped in configs/tech. */
export const SHIPPED_TECHNOLOGIES = [
  "interconnect-22nm",
  "rtm-ap",
  "rtm-ap-low",
  "rtm-ap-destiny",
  "sram-ap",
  "crossbar-isaac",
  "crossbar-neurosim22",
  "reference-isaac",
  "reference-puma",
] as const;

/**
 * The RTM-AP technology scenarios `rtap compare` prices the same events with (default first):
 * typical device-level numbers, SOT/skyrmion-class shifts and writes, and the array-level
 * RTSim/DESTINY numbers (rtm-energies.md §6).
 */
export const RTM_SCENARIOS = ["rtm-ap", "rtm-ap-low", "rtm-ap-destiny"] as const;

/** A bare name (no slash, no .yaml) means configs/tech/<name>.yaml. */
export function technologyPath(pathOrName: string): string {
  const isName = !pathOrName.includes("/") && !pathOrName.includes("\\") && !/\.ya?ml$/i.test(pathOrName);
  return isName ? join(techDir(), `${pathOrName}.yaml`) : resolve(pathOrName);
}

/**
 * Loads a technology file, after `overrides` by dotted path (a sweep point's changes: each
 * overridden number's source then names the override and keeps the file's value; see
 * src/util/sourced-yaml.ts).
 */
export function loadTechnology(pathOrName: string, overrides: readonly Override[] = []): Technology {
  const file = technologyPath(pathOrName);
  const raw = overrides.length ? sourcedObject(readSourcedFile(file, file, `cannot read technology file (shipped technologies: ${SHIPPED_TECHNOLOGIES.join(", ")})`), overrides) : readTechYaml(file);
  rejectOldApFile(raw, file);
  const parsed = technologyFile.safeParse(raw);
  if (!parsed.success) {
    throw new RtapError(`invalid technology file\n${z.prettifyError(parsed.error)}`, file);
  }
  const data = parsed.data;
  if (data.kind === "reference") return { ...resolveParams(data, data.node ?? 0, file), file };
  const resolved = resolveParams(data, data.node, file);
  if (data.kind === "interconnect") return { ...(resolved as Resolved<InterconnectFileRaw>), file };
  const { section, from } = resolveInterconnect(data.interconnect, data.node, file);
  return {
    ...(resolved as Resolved<ApFileRaw> | Resolved<CrossbarFileRaw>),
    interconnect: section,
    interconnectFile: from,
    file,
  } as ApTechnology | CrossbarTechnology;
}

export function loadApTechnology(pathOrName: string, overrides: readonly Override[] = []): ApTechnology {
  const t = loadTechnology(pathOrName, overrides);
  if (t.kind !== "ap") throw new RtapError(`expected an associative-processor technology file (kind: ap), got kind: ${t.kind}`, t.file);
  return t;
}

export function loadCrossbarTechnology(pathOrName: string, overrides: readonly Override[] = []): CrossbarTechnology {
  const t = loadTechnology(pathOrName, overrides);
  if (t.kind !== "crossbar") throw new RtapError(`expected a crossbar technology file (kind: crossbar), got kind: ${t.kind}`, t.file);
  return t;
}

export function loadReferenceTechnology(pathOrName: string, overrides: readonly Override[] = []): ReferenceTechnology {
  const t = loadTechnology(pathOrName, overrides);
  if (t.kind !== "reference") throw new RtapError(`expected a published-reference file (kind: reference), got kind: ${t.kind}`, t.file);
  return t;
}

/** Fields of the version-1 AP technology format and where each went (docs/cost-model.md). */
const OLD_AP_FIELDS: ReadonlyArray<[old: string, now: string]> = [
  ["array.rows", "configs/arch (array.rows)"],
  ["array.tracksPerRow", "configs/arch (array.tracksPerRow)"],
  ["array.domainsPerTrack", "configs/arch (array.domainsPerTrack)"],
  ["array.portsPerTrack", "configs/arch (array.portsPerTrack)"],
  ["organisation.tiles", "configs/arch (chip.tiles)"],
  ["organisation.arraysPerTile", "configs/arch (tile.arrays)"],
  ["array.cellArea", "area.portCell"],
  ["array.domainArea", "area.domain"],
  ["array.peripheryArea", "area.peripheryPerArray"],
  ["organisation.tileOverheadArea", "area.perTile"],
  ["search.energyPerBit", "prices.search_row_bits"],
  ["search.energyPerRow", "prices.search_rows"],
  ["flags.searchEnergyPerBit", "prices.flag_search_row_bits"],
  ["write.energyPerCell", "prices.write_cells (and prices.buffer_write_bits)"],
  ["flags.writeEnergyPerCell", "prices.flag_write_cells"],
  ["shift.energyPerTrackDomain", "prices.shift_track_domains, now per domain-length of track (fJ/domain: divide by the track's domains)"],
  ["controller.energyPerOp", "prices.micro_ops"],
  ["tag.energyPerRow", "prices.tag_row_ops"],
  ["read.energyPerBit", "prices.buffer_read_bits"],
  ["leakage.powerPerArray", "prices.array_seconds"],
  ["controller.clockPeriod", "clockPeriod"],
];

/**
 * An AP file in the old format (its own array geometry and per-section energies) gets one error that
 * names the file, the geometry fields to remove and where every other number moved, instead of a
 * list of unknown keys.
 */
function rejectOldApFile(raw: unknown, file: string): void {
  if (typeof raw !== "object" || raw === null || (raw as { kind?: unknown }).kind !== "ap") return;
  const rec = raw as Record<string, unknown>;
  const has = (path: string): boolean => {
    const [a, b] = path.split(".") as [string, string];
    const sec = rec[a];
    return typeof sec === "object" && sec !== null && b in sec;
  };
  const found = OLD_AP_FIELDS.filter(([old]) => has(old));
  if (found.length === 0) return;
  const geometry = found.filter(([, now]) => now.startsWith("configs/arch")).map(([old]) => old);
  const moved = found.filter(([, now]) => !now.startsWith("configs/arch")).map(([old, now]) => `${old} -> ${now}`);
  throw new RtapError(
    `old-style AP technology file: ${found.map(([o]) => o).join(", ")}. ` +
      (geometry.length
        ? `${geometry.join(", ")} ${geometry.length === 1 ? "is" : "are"} geometry, which lives only in the architecture file (configs/arch/*.yaml); remove ${geometry.length === 1 ? "it" : "them"}. `
        : "") +
      (moved.length ? `AP technology files now hold one price per event kind: ${moved.join("; ")} (docs/cost-model.md, "AP technology files").` : ""),
    file,
  );
}

function readTechYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    const shipped = SHIPPED_TECHNOLOGIES.join(", ");
    throw new RtapError(`cannot read technology file (shipped technologies: ${shipped})`, file);
  }
  try {
    return parseYaml(text);
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const pos = err.linePos?.[0];
      throw new RtapError(`YAML syntax error: ${err.message.split("\n")[0]}`, pos ? `${file}:${pos.line}:${pos.col}` : file);
    }
    throw err;
  }
}

function resolveInterconnect(
  ref: string | InterconnectSectionRaw,
  node: number,
  file: string,
): { section: InterconnectSection; from: string | undefined } {
  if (typeof ref !== "string") return { section: resolveParams(ref, node, file, "interconnect"), from: undefined };
  const path = ref.includes("/") || /\.ya?ml$/i.test(ref) ? resolve(dirname(file), ref) : join(dirname(file), `${ref}.yaml`);
  const t = loadTechnology(path);
  if (t.kind !== "interconnect") throw new RtapError(`interconnect: "${ref}" is a ${t.kind} file, not an interconnect file`, file);
  if (t.node !== node) {
    throw new RtapError(
      `interconnect: "${ref}" is at ${t.node} nm but this file is at ${node} nm; use an interconnect file at the same node`,
      file,
    );
  }
  const { wire, buffer, router } = t;
  return { section: { wire, buffer, router }, from: t.file };
}

/** "crossbar-isaac v1 (tech/crossbar-isaac.yaml, 22 nm)" for report headers. */
export function describeTechnology(t: Technology): string {
  return `${t.name} v${t.version} (${basename(dirname(t.file))}/${basename(t.file)}, ${t.node === undefined ? "node not stated" : `${t.node} nm`})`;
}
