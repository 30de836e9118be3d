/**
 * `rtap compare --arch/--tech` with the user's own files: a technology file is priced as the
 * RTM-AP's default beside the shipped scenarios (same events), an architecture file recompiles,
 * and a file of the wrong kind is one `rtap:` line naming it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { archFilePath } from "../../src/ap/config.js";
import { technologyPath } from "../../src/cost/technology.js";
import { fixtureModel } from "../import/fixtures.js";
import { assertUserError, lastLine, rtap } from "./helpers.js";

const PLAIN = fixtureModel("fmnist-resnet8.onnx");

test("compare --tech my.yaml --arch my-arch.yaml: the user's files price and compile the RTM-AP", { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "rtap-compare-files-"));
  try {
    const tech = join(dir, "my-rtm.yaml");
    const text = readFileSync(technologyPath("rtm-ap"), "utf8").replace("name: rtm-ap\n", "name: my-rtm\n").replace("interconnect: interconnect-22nm", `interconnect: ${technologyPath("interconnect-22nm")}`);
    writeFileSync(tech, text.replace(/(write_cells:\n\s+value: )0\.69/, "$11.38"));
    const args = ["compare", PLAIN, "--targets", "rtm-ap", "--no-ablation", "--no-sensitivity", "--no-report", "--json"];
    const base = await rtap(args);
    assert.equal(base.code, 0, base.stderr);
    const mine = await rtap([...args, "--tech", tech]);
    assert.equal(mine.code, 0, mine.stderr);
    type J = { targets: Record<string, { energy_j: number; events: Record<string, number>; scenarios: Record<string, { default: boolean; energy_j: number; components_j: Record<string, number> }> }> };
    const b = (JSON.parse(lastLine(base.stdout)) as J).targets["rtm-ap"]!, m = (JSON.parse(lastLine(mine.stdout)) as J).targets["rtm-ap"]!;
    assert.deepEqual(Object.keys(m.scenarios), ["my-rtm", "rtm-ap", "rtm-ap-low", "rtm-ap-destiny"]);
    assert.equal(m.scenarios["my-rtm"]!.default, true);
    assert.equal(m.scenarios["rtm-ap"]!.default, false);
    assert.equal(m.energy_j, m.scenarios["my-rtm"]!.energy_j);
    assert.deepEqual(m.events, b.events, "same program, same events");
    assert.equal(m.scenarios["rtm-ap"]!.energy_j, b.energy_j);
    const w = m.scenarios["my-rtm"]!.components_j.write! / b.scenarios["rtm-ap"]!.components_j.write!;
    assert.ok(w > 1.5 && w <= 2, `cell writes cost twice as much (write component x${w})`);

    const arch = join(dir, "small.yaml");
    writeFileSync(arch, readFileSync(archFilePath("rtm-ap"), "utf8").replace(/(rows: \{ value: )512/, "$1256"));
    const small = await rtap([...args, "--arch", arch]);
    assert.equal(small.code, 0, small.stderr);
    const s = (JSON.parse(lastLine(small.stdout)) as J).targets["rtm-ap"]!;
    assert.notDeepEqual(s.events, b.events, "another architecture, another program");

    assertUserError(await rtap([...args, "--tech", "sram-ap"]), "--tech: the RTM-AP target needs an RTM technology file", "sram-ap");
    assertUserError(await rtap([...args, "--tech", "crossbar-isaac"]), "expected an associative-processor technology file");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
