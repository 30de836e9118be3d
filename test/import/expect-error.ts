/** The assertion every bad-input test uses: a user-caused problem must surface as an RtapError. */
import assert from "node:assert/strict";
import { RtapError } from "../../src/errors.js";

function check(err: unknown, fragments: (string | RegExp)[]): string {
  assert.ok(err !== undefined, `expected an RtapError containing ${fragments.join(", ")}, nothing was thrown`);
  assert.ok(err instanceof RtapError, `expected an RtapError, got ${(err as Error).constructor?.name}: ${(err as Error).message}\n${(err as Error).stack}`);
  for (const f of fragments) {
    if (typeof f === "string") assert.ok(err.message.includes(f), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(f)}`);
    else assert.match(err.message, f);
  }
  return err.message;
}

/** Asserts `fn` throws an RtapError whose message contains every fragment; returns the message. */
export function expectRtapError(fn: () => unknown, ...fragments: (string | RegExp)[]): string {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  return check(err, fragments);
}

/** The async form: `promise` must reject with such an RtapError. */
export async function expectRtapRejection(promise: Promise<unknown>, ...fragments: (string | RegExp)[]): Promise<string> {
  let err: unknown;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  return check(err, fragments);
}
