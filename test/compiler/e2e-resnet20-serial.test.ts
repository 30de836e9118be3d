/**
 * zoo:resnet20 on the serial racetrack layout (rtm-ap-serial): every unit bit-exact on 100 seeded
 * random images with the word-level simulator, and on one image with the bit-level one, whose
 * events equal the word level's unit by unit (the interleaved default: e2e-resnet20.test.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileNetwork } from "../../src/compiler/pipeline.js";
import { randomImages } from "../../src/data/synthetic.js";
import { loadQuantizedModel } from "../../src/model.js";
import { assertBitExact, verifiedRun } from "./helpers.js";

const net = compileNetwork(loadQuantizedModel("zoo:resnet20").qgraph, { arch: "rtm-ap-serial", verify: true });

test("zoo:resnet20 on rtm-ap-serial: 100 random images bit-exact on the word level", (t) => {
  const r = verifiedRun(net, randomImages([3, 32, 32], 100, 20), 100, { mode: "fast", events: false, chunk: 50 });
  assertBitExact(r, "resnet20 serial, word level");
  t.diagnostic(`${r.compared} values equal`);
});

test("zoo:resnet20 on rtm-ap-serial: one random image on the bit level, events identical to the word level", () => {
  const pixels = randomImages([3, 32, 32], 1, 21);
  const bit = verifiedRun(net, pixels, 1, { mode: "bit" });
  assertBitExact(bit, "resnet20 serial, bit level");
  const fast = verifiedRun(net, pixels, 1, { mode: "fast" });
  net.units.forEach((u, i) => assert.deepEqual(bit.unitEvents[i], fast.unitEvents[i], `events of unit ${u.unit.name}`));
});
