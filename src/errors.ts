/**
 * rtap's one error type. Every failure a user can cause (bad file, unsupported operator, bad
 * config, unknown dataset) is raised as an RtapError whose message names the problem and where
 * it is (file, node, field). The CLI prints `rtap: <message>` and exits non-zero, with no stack
 * trace; anything else that escapes is a bug in rtap and is reported as such.
 */
export class RtapError extends Error {
  /** Where the problem is, e.g. `node "/stem/Conv" (Conv)` or `configs/rtm-ap.yaml: arrays.rows`. */
  readonly where: string | undefined;
  constructor(message: string, where?: string) {
    super(where ? `${where}: ${message}` : message);
    this.name = "RtapError";
    this.where = where;
  }
}

/** Throws an RtapError when `cond` is false. */
export function check(cond: unknown, message: string, where?: string): asserts cond {
  if (!cond) throw new RtapError(message, where);
}
