import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { RTAP_VERSION } from "../../src/version.js";
import { repoPath } from "../repo.js";

test("the exported version matches package.json", () => {
  const pkg = JSON.parse(readFileSync(repoPath("package.json"), "utf8")) as { version: string };
  assert.equal(RTAP_VERSION, pkg.version);
});
