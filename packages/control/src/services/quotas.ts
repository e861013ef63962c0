// Quotas: DEFAULT_QUOTAS, overridden by the deployment's options, overridden by what the operator set
// (stored in `settings`, so a restart keeps it). Read inside each write transaction, so a change applies
// to the next write at once.
import type { Kysely } from "kysely";
import { ApiError } from "../errors.ts";
import { DEFAULT_QUOTAS, type Quotas } from "../model.ts";
import type { Database } from "../store/index.ts";

export const QUOTA_NAMES = Object.keys(DEFAULT_QUOTAS) as (keyof Quotas)[];
const MAX_QUOTA = 1_000_000;
const SETTING_PREFIX = "quota.";

/** Checks a partial quota object; throws InvalidParameter naming the first bad field. */
export function validateQuotas(input: unknown): Partial<Quotas> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new ApiError("InvalidParameter", "quotas must be an object.");
  }
  const out: Partial<Quotas> = {};
  for (const [name, value] of Object.entries(input)) {
    if (!(QUOTA_NAMES as string[]).includes(name)) throw new ApiError("InvalidParameter", `unknown quota ${name}.`);
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_QUOTA) {
      throw new ApiError("InvalidParameter", `${name} must be an integer from 0 to ${MAX_QUOTA}.`);
    }
    // The store allows one EIP per HAVIP by a unique constraint; a larger quota could never be used.
    if (name === "eipsPerHaVip" && value > 1) {
      throw new ApiError("InvalidParameter", "eipsPerHaVip can be 0 or 1: a HAVIP has at most one EIP.");
    }
    out[name as keyof Quotas] = value;
  }
  return out;
}

export async function readQuotas(db: Kysely<Database>, base: Quotas): Promise<Quotas> {
  const rows = await db.selectFrom("settings").selectAll().where("name", "like", `${SETTING_PREFIX}%`).execute();
  const quotas = { ...base };
  for (const row of rows) {
    const name = row.name.slice(SETTING_PREFIX.length);
    if ((QUOTA_NAMES as string[]).includes(name)) quotas[name as keyof Quotas] = row.value;
  }
  return quotas;
}

export async function storeQuotas(db: Kysely<Database>, input: Partial<Quotas>): Promise<void> {
  for (const [name, value] of Object.entries(input)) {
    await db
      .insertInto("settings")
      .values({ name: SETTING_PREFIX + name, value })
      .onConflict((oc) => oc.column("name").doUpdateSet({ value }))
      .execute();
  }
}
