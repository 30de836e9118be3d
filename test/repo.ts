/**
 * Files of the repository, for tests: found from the checkout's root (the folder with package.json
 * and configs/), not from the test module's own location, so the same tests run from the
 * TypeScript sources (tsx) and from their compiled copies in .test-build/ (what `npm test` runs).
 */
import { join } from "node:path";
import { installRoot } from "../src/util/paths.js";

const root = installRoot();
if (root === null) throw new Error("tests: the repository root (package.json beside configs/) was not found above the test modules");

/** The repository's root folder. */
export const REPO_ROOT: string = root;

/** A path below the repository root, e.g. repoPath("test", "fixtures", "models"). */
export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}
