import { test } from "node:test";
import assert from "node:assert/strict";
import { progress, progressFor } from "../../src/cli/progress.js";
import type { Command } from "commander";
import { contextOf } from "../../src/cli/context.js";
import { CaptureStream, captureContext, rtap } from "./helpers.js";

/** A fake clock advanced by hand, so the tests never depend on real time. */
function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

test("off a terminal, quick work prints nothing", () => {
  const stream = new CaptureStream(false);
  const c = clock();
  const bar = progress("images", 100, { stream, now: c.now });
  for (let i = 0; i < 100; i++) bar.tick();
  bar.stop();
  assert.equal(stream.text, "");
});

test("off a terminal, slow work prints at most one line per quarter", () => {
  const stream = new CaptureStream(false);
  const c = clock();
  const bar = progress("images", 1000, { stream, now: c.now, quietSeconds: 2 });
  for (let i = 0; i < 1000; i++) {
    c.advance(10); // 10 s in total
    bar.tick();
  }
  bar.stop();
  assert.deepEqual(stream.text.trimEnd().split("\n"), [
    "images: 250/1000 (25%) after 2.5 s",
    "images: 500/1000 (50%) after 5.0 s",
    "images: 750/1000 (75%) after 7.5 s",
    "images: 1000/1000 (100%) after 10.0 s",
  ]);
});

test("off a terminal, work stopped early closes with its final count", () => {
  const stream = new CaptureStream(false);
  const c = clock();
  const bar = progress("layers", 8, { stream, now: c.now, quietSeconds: 0 });
  bar.tick(3);
  bar.stop();
  bar.tick(5); // ignored after stop
  assert.deepEqual(stream.text.trimEnd().split("\n"), ["layers: 3/8 (37%) after 0.0 s", "layers: 3/8 (37%) after 0.0 s"]);
});

test("disabled (--json) and empty work print nothing, even on a terminal", () => {
  const stream = new CaptureStream(true);
  const off = progress("x", 10, { stream, enabled: false });
  off.tick(10);
  off.stop();
  const empty = progress("x", 0, { stream });
  empty.tick();
  empty.stop();
  const ctx = { ...captureContext(), stderr: stream };
  const viaCtx = progressFor(ctx, "x", 10, true);
  viaCtx.tick(10);
  viaCtx.stop();
  assert.equal(stream.text, "");
  assert.equal(ctx.stdout.text, "");
});

test("on a terminal, a live bar draws on stderr and never on stdout", () => {
  const ctx = { ...captureContext(), stderr: new CaptureStream(true, 120) };
  const bar = progressFor(ctx, "images", 4, false);
  bar.tick(2);
  bar.tick(2);
  bar.stop();
  assert.match(ctx.stderr.text, /images .* 4\/4 100%/);
  assert.equal(ctx.stdout.text, "");
});

test("an error escaping a command stops its live bar before the message is printed", async () => {
  const tty = new CaptureStream(true, 120);
  const r = await rtap(["slow"], {
    extend: (p) => {
      p.command("slow").action((_opts, cmd: Command) => {
        const bar = progressFor({ ...contextOf(cmd), stderr: tty }, "images", 10, false);
        bar.tick(3);
        throw new Error("died mid-way");
      });
    },
  });
  assert.equal(r.code, 70);
  // cli-progress disables line wrap (ESC[?7l) while drawing and re-enables it (ESC[?7h) on stop.
  assert.ok(tty.text.includes("\x1b[?7l") && tty.text.endsWith("\x1b[?7h\x1b8\n"), JSON.stringify(tty.text.slice(-30)));
});
