/** In-process CLI runs with captured streams, for the tests under test/cli/. */
import assert from "node:assert/strict";
import type { CliContext } from "../../src/cli/context.js";
import { runCli, runProgram, buildProgram } from "../../src/cli/main.js";
import type { Command } from "commander";

export class CaptureStream {
  text = "";
  constructor(readonly isTTY = false, readonly columns?: number) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function captureContext(env: Record<string, string | undefined> = {}): CliContext & { stdout: CaptureStream; stderr: CaptureStream } {
  return { stdout: new CaptureStream(), stderr: new CaptureStream(), env };
}

/** Runs `rtap <argv...>` in-process. `extend` may add test-only commands before parsing. */
export async function rtap(argv: string[], opts: { env?: Record<string, string | undefined>; extend?: (p: Command) => void } = {}): Promise<CliResult> {
  const ctx = captureContext(opts.env);
  let code: number;
  if (opts.extend) {
    const program = buildProgram(ctx);
    opts.extend(program);
    code = await runProgram(program, argv, ctx);
  } else {
    code = await runCli(argv, ctx);
  }
  return { code, stdout: ctx.stdout.text, stderr: ctx.stderr.text };
}

/** The last non-empty line of a text. */
export function lastLine(text: string): string {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  return lines[lines.length - 1] ?? "";
}

/** Exit code 1, one `rtap: ...` line on stderr containing every fragment, no stack trace, nothing on stdout. */
export function assertUserError(r: CliResult, ...fragments: string[]): void {
  assert.equal(r.code, 1, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.ok(lines[0]!.startsWith("rtap: "), lines[0]);
  for (const f of fragments) assert.ok(lines[0]!.includes(f), `${JSON.stringify(lines[0])} lacks ${JSON.stringify(f)}`);
  assert.doesNotMatch(r.stderr, /\n\s+at |internal error|TypeError|RangeError/);
  assert.equal(r.stdout, "");
}
