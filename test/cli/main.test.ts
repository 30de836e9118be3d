import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import type { Command } from "commander";
import { RtapError } from "../../src/errors.js";
import { RTAP_VERSION } from "../../src/version.js";
import { lastLine, rtap } from "./helpers.js";
import { REPO_ROOT, repoPath } from "../repo.js";

// Absolute, so the tests do not depend on the working directory.
const FIXTURE = repoPath("test", "fixtures", "fashion-mnist-slice");

test("--version prints the version and exits 0", async () => {
  const r = await rtap(["--version"]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `${RTAP_VERSION}\n`);
  assert.equal(r.stderr, "");
});

test("--help lists the datasets command and the exit codes on stdout", async () => {
  const r = await rtap(["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: rtap/);
  assert.match(r.stdout, /datasets \[options\] <spec>/);
  assert.match(r.stdout, /Exit codes: 0 ok, 1 .*2 usage error, 70 internal error/);
});

test("an unknown command, an unknown option and a bad option value are usage errors (exit 2)", async () => {
  const unknown = await rtap(["frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /error: unknown command 'frobnicate'/);
  assert.equal(unknown.stdout, "");
  const badOpt = await rtap(["datasets", `idx:${FIXTURE}`, "--bogus"]);
  assert.equal(badOpt.code, 2);
  assert.match(badOpt.stderr, /unknown option '--bogus'/);
  const badValue = await rtap(["datasets", `idx:${FIXTURE}`, "--limit", "0"]);
  assert.equal(badValue.code, 2);
  assert.match(badValue.stderr, /--limit <n>' argument '0' is invalid\. expected a positive integer/);
  const missingArg = await rtap(["datasets"]);
  assert.equal(missingArg.code, 2);
  assert.match(missingArg.stderr, /missing required argument 'spec'/);
  const noCommand = await rtap([]);
  assert.equal(noCommand.code, 2);
  assert.match(noCommand.stderr, /Usage: rtap/);
});

test("an RtapError prints one line `rtap: <message>` and exits 1, with no stack trace", async () => {
  const r = await rtap(["datasets", "no-such-dataset"]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, 'rtap: dataset "no-such-dataset": unknown dataset spec; use one of: fashion-mnist, idx:<dir>, cifar10:<dir>\n');
});

test("RTAP_DEBUG=1 adds the stack trace to an RtapError", async () => {
  const r = await rtap(["datasets", "no-such-dataset"], { env: { RTAP_DEBUG: "1" } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^rtap: dataset "no-such-dataset": unknown dataset spec/);
  assert.match(r.stderr, /\n\s+at /);
});

test("any other exception is an internal error (exit 70); stack only with RTAP_DEBUG=1", async () => {
  const extend = (p: Command): void => {
    p.command("boom").action(() => {
      throw new TypeError("cannot read properties of undefined");
    });
    p.command("boom-async").action(async () => {
      await Promise.resolve();
      throw new RtapError("bad thing", "configs/x.yaml: arrays.rows");
    });
  };
  const quiet = await rtap(["boom"], { extend });
  assert.equal(quiet.code, 70);
  assert.equal(
    quiet.stderr,
    "rtap: internal error: cannot read properties of undefined\n" +
      "This is a bug in rtap; please report it with the command that triggered it.\n" +
      "(set RTAP_DEBUG=1 to print the stack trace)\n",
  );
  const debug = await rtap(["boom"], { extend, env: { RTAP_DEBUG: "1" } });
  assert.equal(debug.code, 70);
  assert.match(debug.stderr, /TypeError: cannot read properties of undefined\n\s+at /);
  // Subcommands added after buildProgram inherit the error handling, async actions included.
  const asyncUser = await rtap(["boom-async"], { extend });
  assert.equal(asyncUser.code, 1);
  assert.equal(asyncUser.stderr, "rtap: configs/x.yaml: arrays.rows: bad thing\n");
});

test("end to end: the real entry point via tsx (version, JSON output, user error, unknown command)", () => {
  const run = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
    spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      env: { ...process.env, RTAP_DEBUG: "" },
    });
  const json = run("datasets", `idx:${FIXTURE}`, "--limit", "100", "--json");
  assert.equal(json.status, 0, json.stderr);
  const out = JSON.parse(lastLine(json.stdout)) as { count: number; shape: number[] };
  assert.equal(out.count, 100);
  assert.deepEqual(out.shape, [1, 28, 28]);
  const err = run("datasets", "no-such-dataset");
  assert.equal(err.status, 1);
  assert.equal(err.stdout, "");
  assert.equal(err.stderr.trimEnd().split("\n").length, 1, err.stderr);
  assert.match(err.stderr, /^rtap: dataset "no-such-dataset": unknown dataset spec/);
  assert.doesNotMatch(err.stderr, /\bat /);
  const version = run("--version");
  assert.equal(version.status, 0);
  assert.equal(version.stdout, `${RTAP_VERSION}\n`);
  const unknown = run("frobnicate");
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
});
