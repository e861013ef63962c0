// The data directory holds the embedded database and the generated operator token. It is created on
// first start (owner-only) and must be writable: we find out now rather than at the first write.
import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { StartupError } from "./startup-error.ts";

export async function prepareDataDir(dir: string): Promise<void> {
  try {
    await makeDirectory(dir);
  } catch (e) {
    throw new StartupError(`data directory ${dir} cannot be created: ${reason(e)}`);
  }
  const probe = join(dir, `.write-probe-${process.pid}`);
  try {
    await writeFile(probe, "", { flag: "w" });
    await rm(probe, { force: true });
  } catch (e) {
    throw new StartupError(`data directory ${dir} is not writable: ${reason(e)}`);
  }
}

function codeOf(e: unknown): unknown {
  return (e as { code?: unknown }).code;
}

/**
 * mkdir -p, by hand: Node's recursive mkdir never returns for a path under /proc (ENOENT for a parent that
 * exists), so each level is created on its own and a level that cannot be created fails at once.
 */
async function makeDirectory(dir: string, depth = 0): Promise<void> {
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (e) {
    if (codeOf(e) === "EEXIST") {
      if ((await stat(dir)).isDirectory()) return;
      throw e;
    }
    if (codeOf(e) !== "ENOENT" || depth > 64 || dirname(dir) === dir) throw e;
    await makeDirectory(dirname(dir), depth + 1);
    await mkdir(dir, { mode: 0o700 }).catch((again: unknown) => {
      if (codeOf(again) !== "EEXIST") throw again;
    });
  }
}

function reason(e: unknown): string {
  switch (codeOf(e)) {
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ENOTDIR":
      return "a path component is not a directory";
    case "EROFS":
      return "read-only file system";
    case "ENOSPC":
      return "no space left on device";
    case "EEXIST":
      return "a file with that name exists";
    case "ENOENT":
      return "no such file or directory";
    default:
      return e instanceof Error ? e.message : String(e);
  }
}
