/**
 * Where a command writes and what environment it sees. Commands never touch process.stdout or
 * process.env directly but go through the CliContext of their program, so tests can run the whole
 * CLI in-process with captured streams (buildProgram(ctx) / runCli(argv, ctx) in main.ts).
 */
import type { Command } from "commander";

/** The part of a writable stream rtap uses; process.stdout/stderr satisfy it. */
export interface OutStream {
  write(chunk: string): unknown;
  /** True for a terminal: enables colours and the live progress bar. */
  isTTY?: boolean;
  /** Terminal width, when known. */
  columns?: number;
}

export interface CliContext {
  /** Results: human text and the final --json line. */
  stdout: OutStream;
  /** Progress, warnings and error messages. */
  stderr: OutStream;
  /** Environment variables (NO_COLOR, FORCE_COLOR, RTAP_DEBUG...). */
  env: Readonly<Record<string, string | undefined>>;
}

export function processContext(): CliContext {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

const contexts = new WeakMap<Command, CliContext>();

/** Binds a context to a root program (done by buildProgram). */
export function bindContext(program: Command, ctx: CliContext): void {
  contexts.set(program, ctx);
}

/** The context of the program a (sub)command belongs to; the process streams if none is bound. */
export function contextOf(cmd: Command): CliContext {
  let root = cmd;
  while (root.parent) root = root.parent;
  return contexts.get(root) ?? processContext();
}

/** True when RTAP_DEBUG=1 (stack traces for every error). */
export function debugEnabled(ctx: CliContext): boolean {
  return ctx.env.RTAP_DEBUG === "1";
}
