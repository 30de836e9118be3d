/**
 * Progress for long work (per image, per layer). It only ever writes to stderr, so stdout stays
 * clean for results and the --json line:
 *  - stderr is a terminal and the bar is enabled: a live cli-progress bar;
 *  - stderr is not a terminal (CI logs, redirected): nothing for quick work; once the work has run
 *    for `quietSeconds`, one plain line per quarter done, so at most four lines;
 *  - disabled (e.g. --json): nothing.
 * Always call stop() (in a finally) so a live bar ends its line.
 */
import cliProgress from "cli-progress";
import type { CliContext, OutStream } from "./context.js";

export interface Progress {
  /** Marks n more units done (default 1). */
  tick(n?: number): void;
  /** Ends the bar; further ticks are ignored. */
  stop(): void;
}

export interface ProgressOptions {
  /** Draw anything at all (pass !json). Default true. */
  enabled?: boolean;
  /** Default process.stderr. */
  stream?: OutStream;
  /** Plain (non-terminal) mode stays silent until the work has run this long. Default 2 s. */
  quietSeconds?: number;
  /** Clock in ms, injectable for tests. Default performance.now. */
  now?: () => number;
}

const NO_PROGRESS: Progress = { tick() {}, stop() {} };

/** Live terminal bars, so an error path can end them (runProgram calls stopAllProgress). */
const liveBars = new Set<Progress>();

/** Stops every live bar: restores the terminal's line wrap before an error message is printed. */
export function stopAllProgress(): void {
  for (const bar of [...liveBars]) bar.stop();
}

export function progress(label: string, total: number, opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.enabled === false || total <= 0) return NO_PROGRESS;
  return stream.isTTY === true ? terminalBar(label, total, stream) : plainLines(label, total, stream, opts);
}

/** The progress bar for a command's context: on its stderr, off with --json. */
export function progressFor(ctx: CliContext, label: string, total: number, json: boolean): Progress {
  return progress(label, total, { enabled: !json, stream: ctx.stderr });
}

function terminalBar(label: string, total: number, stream: OutStream): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream: stream as NodeJS.WritableStream,
      format: `${label} {bar} {value}/{total} {percentage}% | {duration_formatted} elapsed, ETA {eta_formatted}`,
      // A hidden cursor would stay hidden if the process is killed mid-bar; not worth it.
      hideCursor: false,
      clearOnComplete: false,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
  let done = 0;
  let stopped = false;
  bar.start(total, 0);
  const handle: Progress = {
    tick(n = 1) {
      if (stopped) return;
      done = Math.min(total, done + n);
      bar.update(done);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      liveBars.delete(handle);
      bar.stop();
    },
  };
  liveBars.add(handle);
  return handle;
}

function plainLines(label: string, total: number, stream: OutStream, opts: ProgressOptions): Progress {
  const now = opts.now ?? (() => performance.now());
  const quietMs = (opts.quietSeconds ?? 2) * 1000;
  const start = now();
  let done = 0;
  let quarter = 0; // quarters already reported
  let printed = false;
  let stopped = false;
  const line = (): void => {
    const secs = ((now() - start) / 1000).toFixed(1);
    stream.write(`${label}: ${done}/${total} (${Math.floor((100 * done) / total)}%) after ${secs} s\n`);
    printed = true;
  };
  return {
    tick(n = 1) {
      if (stopped) return;
      done = Math.min(total, done + n);
      const q = Math.floor((4 * done) / total);
      if (q > quarter) {
        quarter = q;
        if (now() - start >= quietMs) line();
      }
    },
    stop() {
      if (stopped) return;
      stopped = true;
      // Close a run that reported progress with its final count, unless that was the last line.
      if (printed && quarter < 4) line();
    },
  };
}
