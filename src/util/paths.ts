/**
 * How reports name the files that produced them. A shipped configuration file is named relative
 * to the rtap installation ("configs/tech/rtm-ap.yaml"), a user's file relative to the working
 * directory when it lies below it: committed reports then carry no path of the machine that
 * generated them, and the same run gives the same report on every machine.
 */
import { existsSync } from "node:fs";
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | null | undefined;

/** The rtap installation (the folder with package.json and configs/), or null. */
export function installRoot(): string | null {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  root = null;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "configs"))) {
      root = dir;
      break;
    }
    dir = dirname(dir);
  }
  return root;
}

function below(base: string, file: string): string | null {
  const r = relative(base, file);
  return r && !r.startsWith("..") && !isAbsolute(r) ? r.split(sep).join("/") : null;
}

/** `file` as a report shows it (see the module comment). */
export function reportPath(file: string): string {
  if (!isAbsolute(file)) return file.split(sep).join("/");
  const r = installRoot();
  return (r && below(r, file)) ?? below(process.cwd(), file) ?? file;
}
