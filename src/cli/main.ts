#!/usr/bin/env node
/**
 * The `rtap` command line. buildProgram() assembles the commander program from the command modules
 * listed in COMMANDS; runCli() runs it and turns every outcome into an exit code:
 *   0  success (also --help, --version)
 *   1  a problem the user can fix (RtapError): `rtap: <message>` on stderr, no stack trace
 *   2  usage error (unknown command/option, bad option value): commander's message
 *  70  internal error (any other exception): a bug in rtap; stack trace with RTAP_DEBUG=1
 * The module only parses process.argv when it is the entry point, so tests can import it.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { RtapError } from "../errors.js";
import { RTAP_VERSION } from "../version.js";
import { bindContext, debugEnabled, processContext, type CliContext } from "./context.js";
import { useColor } from "./output.js";
import { stopAllProgress } from "./progress.js";
import * as datasetsCommand from "./commands/datasets.js";
import * as evalCommand from "./commands/eval.js";
import * as compileCommand from "./commands/compile.js";
import * as runCommand from "./commands/run.js";
import * as compareCommand from "./commands/compare.js";
import * as sweepCommand from "./commands/sweep.js";
import * as faultsCommand from "./commands/faults.js";

/** A subcommand module: adds its command(s) to the program with program.command(...). */
export interface CommandModule {
  register(program: Command): void;
}

/**
 * Every subcommand, in help order. To add one, import its module above and list it here.
 * Commands must be created with program.command() so they inherit the exit and output handling.
 */
const COMMANDS: readonly CommandModule[] = [compareCommand, sweepCommand, evalCommand, compileCommand, runCommand, faultsCommand, datasetsCommand];

export const EXIT_OK = 0;
export const EXIT_USER_ERROR = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 70; // EX_SOFTWARE in sysexits.h

export function buildProgram(ctx: CliContext = processContext()): Command {
  const program = new Command("rtap")
    .description(
      "Compile ternary-weight neural networks onto racetrack-memory associative processors (RTM-APs), " +
        "simulate them bit-exactly, and report energy, latency and area against crossbar compute-in-memory.",
    )
    .version(RTAP_VERSION, "-V, --version", "print the rtap version")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void ctx.stdout.write(s),
      writeErr: (s) => void ctx.stderr.write(s),
      getOutHelpWidth: () => ctx.stdout.columns ?? 100,
      getErrHelpWidth: () => ctx.stderr.columns ?? 100,
      getOutHasColors: () => useColor(ctx.stdout, ctx.env),
      getErrHasColors: () => useColor(ctx.stderr, ctx.env),
    })
    .showHelpAfterError("(run `rtap --help` for usage)")
    .addHelpText(
      "after",
      "\nExit codes: 0 ok, 1 error in the input or configuration, 2 usage error, 70 internal error.\n" +
        "Set RTAP_DEBUG=1 to print stack traces. Docs: docs/cli.md.\n",
    );
  bindContext(program, ctx);
  for (const mod of COMMANDS) mod.register(program);
  return program;
}

/** Runs `program` on user arguments (no node/script prefix) and returns the exit code. */
export async function runProgram(program: Command, argv: readonly string[], ctx: CliContext): Promise<number> {
  try {
    await program.parseAsync([...argv], { from: "user" });
    return EXIT_OK;
  } catch (err) {
    stopAllProgress(); // a bar left running would swallow the message's line
    return reportError(err, ctx);
  }
}

/** Builds the program on `ctx` and runs it; returns the exit code. */
export async function runCli(argv: readonly string[], ctx: CliContext = processContext()): Promise<number> {
  return runProgram(buildProgram(ctx), argv, ctx);
}

/** Prints an escaped error the rtap way and picks its exit code. */
export function reportError(err: unknown, ctx: CliContext): number {
  if (err instanceof CommanderError) {
    // commander has already printed its message (or the help/version text) through writeErr/writeOut.
    return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  const debug = debugEnabled(ctx);
  if (err instanceof RtapError) {
    ctx.stderr.write(`rtap: ${err.message}\n`);
    if (debug && err.stack) ctx.stderr.write(`${err.stack}\n`);
    return EXIT_USER_ERROR;
  }
  const message = err instanceof Error ? err.message : String(err);
  ctx.stderr.write(`rtap: internal error: ${message}\n`);
  ctx.stderr.write("This is a bug in rtap; please report it with the command that triggered it.\n");
  if (debug) ctx.stderr.write(`${err instanceof Error && err.stack ? err.stack : String(err)}\n`);
  else ctx.stderr.write("(set RTAP_DEBUG=1 to print the stack trace)\n");
  return EXIT_INTERNAL;
}

/** True when this file is the script node was started with (directly, via tsx or an npm bin link). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // `rtap ... | head` closes stdout early; that is not an error.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(EXIT_OK);
    throw err;
  });
  process.exitCode = await runCli(process.argv.slice(2));
}
