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
import {
  technologyFile,
  type ApFileRaw,
  type CrossbarFileRaw,
  type InterconnectFileRaw,
  type InterconnectSectionRaw,
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
export type Technology = InterconnectTechnology | ApTechnology | CrossbarTechnology;

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
  "sram-ap",
  "crossbar-isaac",
  "crossbar-neurosim22",
] as const;

/** A bare name (no slash, no .yaml) means configs/tech/<name>.yaml. */
export function technologyPath(pathOrName: string): string {
  const isName = !pathOrName.includes("/") && !pathOrName.includes("\\") && !/\.ya?ml$/i.test(pathOrName);
  return isName ? join(techDir(), `${pathOrName}.yaml`) : resolve(pathOrName);
}

export function loadTechnology(pathOrName: string): Technology {
  const file = technologyPath(pathOrName);
  const raw = readTechYaml(file);
  const parsed = technologyFile.safeParse(raw);
  if (!parsed.success) {
    throw new RtapError(`invalid technology file\n${z.prettifyError(parsed.error)}`, file);
  }
  const data = parsed.data;
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

export function loadApTechnology(pathOrName: string): ApTechnology {
  const t = loadTechnology(pathOrName);
  if (t.kind !== "ap") throw new RtapError(`expected an associative-processor technology file (kind: ap), got kind: ${t.kind}`, t.file);
  return t;
}

export function loadCrossbarTechnology(pathOrName: string): CrossbarTechnology {
  const t = loadTechnology(pathOrName);
  if (t.kind !== "crossbar") throw new RtapError(`expected a crossbar technology file (kind: crossbar), got kind: ${t.kind}`, t.file);
  return t;
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

/** "crossbar-isaac v1 (configs/tech/crossbar-isaac.yaml)" for report headers. */
export function describeTechnology(t: Technology): string {
  return `${t.name} v${t.version} (${basename(dirname(t.file))}/${basename(t.file)}, ${t.node} nm)`;
}
