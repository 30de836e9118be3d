/**
 * One reader for rtap's sourced YAML files (architecture files in configs/arch, technology files in
 * configs/tech): every number is written `{ value, unit, source | assumption + note, ... }`.
 *
 * `readSourcedYaml(file, overrides)` parses the file with line information, applies overrides by
 * dotted path (`array.rows`, `prices.search_row_bits`, `levels[1].inputDistance`) and returns the
 * plain object the schema loaders validate. An override of a sourced number replaces its `value`
 * (in the unit the file writes) and its provenance: the `source` then names where the override came
 * from (a sweep plan's file:line) and keeps the file's value and source beside it, so a report built
 * from the result stays honest. An override of a plain field (`layout: serial`) replaces it.
 * Errors name the file, the line and the path.
 */
import { readFileSync } from "node:fs";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import { RtapError } from "../errors.js";

/** One change to a file: a dotted path, the new value, and where the change was asked for. */
export interface Override {
  path: string;
  value: unknown;
  /** Where the override comes from, e.g. "examples/sweep.yaml:14" or "--override". */
  origin: string;
}

/** A parsed YAML file that can tell the line of any path. */
export interface SourcedDoc {
  file: string;
  /** The name shown in messages (a shipped file as configs/..., else the path as given). */
  where: string;
  doc: Document;
  lines: LineCounter;
}

/** "a.b[2].c" -> ["a", "b", 2, "c"]; throws an RtapError naming the path when malformed. */
export function pathTokens(path: string, where?: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const part of path.split(".")) {
    const m = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (!m) throw new RtapError(`bad path "${path}" (use a.b[0].c)`, where);
    out.push(m[1] as string);
    for (const idx of (m[2] ?? "").matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

/** Parses YAML text with line information; a syntax error names file:line:col. */
export function parseSourcedText(text: string, file: string, where = file): SourcedDoc {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const err = doc.errors[0];
  if (err) {
    const pos = lines.linePos(err.pos[0]);
    throw new RtapError(`YAML syntax error: ${err.message.split("\n")[0]}`, `${where}:${pos.line}:${pos.col}`);
  }
  return { file, where, doc, lines };
}

/** Reads and parses a sourced YAML file. `missing` is the message when it cannot be read. */
export function readSourcedFile(file: string, where = file, missing = "cannot read file"): SourcedDoc {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new RtapError(missing, where);
  }
  return parseSourcedText(text, file, where);
}

/** The 1-based line of the node at `tokens` (or of its nearest existing parent), or undefined. */
export function lineOf(d: SourcedDoc, tokens: ReadonlyArray<string | number>): number | undefined {
  for (let n = tokens.length; n >= 0; n--) {
    const node = n === 0 ? d.doc.contents : d.doc.getIn(tokens.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return d.lines.linePos(range[0]).line;
  }
  return undefined;
}

/** "file:line" of a path, for messages. */
export function whereOf(d: SourcedDoc, tokens: ReadonlyArray<string | number>): string {
  const line = lineOf(d, tokens);
  return line === undefined ? d.where : `${d.where}:${line}`;
}

function keysAt(d: SourcedDoc, tokens: ReadonlyArray<string | number>): string[] {
  const node = tokens.length === 0 ? d.doc.contents : d.doc.getIn(tokens, true);
  if (isMap(node)) return node.items.map((p) => String(isScalar(p.key) ? p.key.value : p.key));
  return [];
}

/** True when a YAML node is a sourced number: a mapping with `value` and `unit`. */
function isSourcedNumber(node: unknown): boolean {
  return isMap(node) && node.has("value") && node.has("unit");
}

/** Applies one override to the document (see the module comment). */
export function applyOverride(d: SourcedDoc, o: Override): void {
  const tokens = pathTokens(o.path, o.origin);
  // find the deepest existing prefix, to say precisely what is missing
  for (let n = 1; n <= tokens.length; n++) {
    const prefix = tokens.slice(0, n);
    const node = d.doc.getIn(prefix, true);
    if (node === undefined) {
      const parent = tokens.slice(0, n - 1);
      const parentNode = parent.length ? d.doc.getIn(parent, true) : d.doc.contents;
      if (isScalar(parentNode) && typeof parentNode.value === "string")
        throw new RtapError(`"${o.path}": ${parent.join(".")} is "${parentNode.value}" (a reference to another file), not a section of ${d.where}; override that file's field instead`, o.origin);
      const keys = keysAt(d, parent);
      throw new RtapError(
        `"${o.path}": ${d.where} has no field "${String(tokens[n - 1])}"${parent.length ? ` under ${parent.join(".")} (${whereOf(d, parent)})` : ""}${keys.length ? `; fields there: ${keys.join(", ")}` : ""}`,
        o.origin,
      );
    }
  }
  const node = d.doc.getIn(tokens, true);
  if (isSourcedNumber(node)) {
    const map = node as import("yaml").YAMLMap;
    const old = map.get("value");
    const unit = map.get("unit");
    const oldSource = map.get("source") as string | undefined;
    const oldNote = map.get("note") as string | undefined;
    const was = `${JSON.stringify(old)} ${String(unit)}${oldSource ? ` (source: ${oldSource})` : oldNote ? ` (assumption: ${oldNote})` : ""}`;
    map.set("value", d.doc.createNode(o.value));
    map.set("source", `override from ${o.origin}; the file's value was ${was}`);
    map.delete("assumption");
    map.delete("note");
    return;
  }
  if (isScalar(node) || isSeq(node)) {
    d.doc.setIn(tokens, d.doc.createNode(o.value));
    return;
  }
  throw new RtapError(`"${o.path}" is a section of ${d.where} (${whereOf(d, tokens)}), not a number or field; name one of its fields: ${keysAt(d, tokens).join(", ")}`, o.origin);
}

/** The file as a plain object, after applying `overrides` in order. */
export function sourcedObject(d: SourcedDoc, overrides: readonly Override[] = []): unknown {
  for (const o of overrides) applyOverride(d, o);
  return d.doc.toJS();
}

/** The file's text after the overrides (what a sweep point's architecture is, written out). */
export function sourcedText(d: SourcedDoc, overrides: readonly Override[] = []): string {
  for (const o of overrides) applyOverride(d, o);
  return d.doc.toString({ lineWidth: 0 });
}
