import { test } from "node:test";
import assert from "node:assert/strict";
import { printJson, renderTable, toJsonLine, useColor } from "../../src/cli/output.js";
import { CaptureStream, captureContext } from "./helpers.js";

test("printJson writes exactly one line; bigints and typed arrays are converted", () => {
  const ctx = captureContext();
  printJson(ctx, { a: 1n, big: 2n ** 64n, arr: new Int32Array([1, -2]), s: "x\ny" });
  assert.equal(ctx.stdout.text, '{"a":1,"big":"18446744073709551616","arr":[1,-2],"s":"x\\ny"}\n');
  assert.equal(ctx.stdout.text.split("\n").length, 2);
  assert.equal(toJsonLine({ nested: { u8: new Uint8Array([255]) } }), '{"nested":{"u8":[255]}}');
});

test("useColor: terminals only, NO_COLOR wins, FORCE_COLOR forces, TERM=dumb disables", () => {
  const tty = new CaptureStream(true);
  const pipe = new CaptureStream(false);
  assert.equal(useColor(tty, {}), true);
  assert.equal(useColor(pipe, {}), false);
  assert.equal(useColor(tty, { NO_COLOR: "1" }), false);
  assert.equal(useColor(pipe, { FORCE_COLOR: "1" }), true);
  assert.equal(useColor(tty, { FORCE_COLOR: "0" }), true);
  assert.equal(useColor(tty, { TERM: "dumb" }), false);
});

test("renderTable: plain off a terminal, header rule only, numbers right-aligned by default", () => {
  const ctx = captureContext();
  const out = renderTable(ctx, { head: ["layer", "adds"], rows: [["conv1", 12], ["conv2", 3456]] });
  assert.equal(
    out,
    [
      "┌───────┬──────┐",
      "│ layer │ adds │",
      "├───────┼──────┤",
      "│ conv1 │   12 │",
      "│ conv2 │ 3456 │",
      "└───────┴──────┘",
    ].join("\n"),
  );
  const colored = renderTable({ ...ctx, stdout: new CaptureStream(true) }, { head: ["h"], rows: [["v"]] });
  assert.match(colored, /\x1b\[1m\x1b\[36mh\x1b\[39m\x1b\[22m/);
});
