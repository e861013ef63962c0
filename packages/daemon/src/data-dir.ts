// The data directory holds the embedded database and the generated operator token. It is created on
// first start (owner-only) and must be writable: we find out now rather than at the first write.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { StartupError } from "./startup-error.ts";

export async function prepareDataDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
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

function reason(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  switch (code) {
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
    default:
      return e instanceof Error ? e.message : String(e);
  }
}
