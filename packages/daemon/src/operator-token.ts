// The operator token: from HAVIP_ADMIN_TOKEN when set, otherwise generated on first start and kept in
// <data-dir>/admin-token (mode 0600) so a restart reuses it. The token itself never reaches a log.
import { randomBytes } from "node:crypto";
import { chmod, link, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { StartupError } from "./startup-error.ts";

export const OPERATOR_TOKEN_FILE = "admin-token";

export type OperatorToken =
  | { token: string; source: "environment" }
  | { token: string; source: "created" | "file"; path: string; tightenedMode?: boolean };

export async function loadOperatorToken(dataDir: string, fromEnv: string | undefined): Promise<OperatorToken> {
  if (fromEnv !== undefined && fromEnv !== "") {
    const token = fromEnv.trim();
    if (token.length < 16) throw new StartupError("HAVIP_ADMIN_TOKEN must be at least 16 characters");
    return { token, source: "environment" };
  }
  const path = join(dataDir, OPERATOR_TOKEN_FILE);
  const existing = await readExisting(path);
  if (existing !== undefined) return { ...existing, source: "file", path };
  const token = `havip-op-${randomBytes(32).toString("base64url")}`;
  // Written to a private temporary file, then linked into place: the token file appears complete or not
  // at all, and a token another havipd wrote in the meantime is never overwritten.
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    await writeFile(temporary, `${token}\n`, { mode: 0o600, flag: "wx" });
    await link(temporary, path);
  } catch (e) {
    if ((e as { code?: unknown }).code === "EEXIST") {
      const raced = await readExisting(path);
      if (raced !== undefined) return { ...raced, source: "file", path };
    }
    throw new StartupError(`cannot write the operator token to ${path}: ${(e as Error).message}`);
  } finally {
    await rm(temporary, { force: true });
  }
  return { token, source: "created", path };
}

async function readExisting(path: string): Promise<{ token: string; tightenedMode: boolean } | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as { code?: unknown }).code === "ENOENT") return undefined;
    throw new StartupError(`cannot read the operator token file ${path}: ${(e as Error).message}`);
  }
  const token = text.trim();
  if (token === "") throw new StartupError(`the operator token file ${path} is empty; delete it to generate a new one`);
  // A token readable by others is a leak waiting to happen: restore owner-only access.
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) !== 0) await chmod(path, 0o600);
  return { token, tightenedMode: (mode & 0o077) !== 0 };
}
