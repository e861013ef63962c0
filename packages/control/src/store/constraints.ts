// Maps database constraint violations (SQLite and PostgreSQL) to catalogue errors. The services check
// the same rules first for friendly messages; these constraints are what makes a lost race impossible.
import { ApiError } from "../errors.ts";
import { CONSTRAINT } from "./migrations.ts";

interface Violation {
  kind: "unique" | "check" | "foreign-key";
  name: string | null; // PostgreSQL: the constraint or index name
  detail: string; // SQLite: "table.col, table.col" or the check's name
}

function asViolation(e: unknown): Violation | null {
  if (typeof e !== "object" || e === null) return null;
  const err = e as { code?: unknown; errcode?: unknown; constraint?: unknown; message?: unknown };
  const message = typeof err.message === "string" ? err.message : "";
  if (err.code === "ERR_SQLITE_ERROR" && typeof err.errcode === "number") {
    // Extended result codes: 2067 UNIQUE, 1555 PRIMARYKEY, 275 CHECK, 787 FOREIGNKEY.
    const detail = message.replace(/^[A-Z ]+constraint failed: ?/, "");
    if (err.errcode === 2067 || err.errcode === 1555) return { kind: "unique", name: null, detail };
    if (err.errcode === 275) return { kind: "check", name: null, detail };
    if (err.errcode === 787) return { kind: "foreign-key", name: null, detail };
    return null;
  }
  const name = typeof err.constraint === "string" ? err.constraint : null;
  if (err.code === "23505") return { kind: "unique", name, detail: message };
  if (err.code === "23514") return { kind: "check", name, detail: message };
  if (err.code === "23503") return { kind: "foreign-key", name, detail: message };
  return null;
}

// SQLite names a UNIQUE violation by its columns, PostgreSQL by the constraint's name.
const UNIQUE_RULES: { name: string; sqliteColumns: string; error: () => ApiError }[] = [
  {
    name: CONSTRAINT.subnetAddress,
    sqliteColumns: "subnet_addresses.subnet_id, subnet_addresses.ip",
    error: () => new ApiError("InvalidIpAddress.InUse", "The address is already in use in this subnet."),
  },
  {
    name: CONSTRAINT.eipTargetHavip,
    sqliteColumns: "eips.target_havip_id",
    error: () => new ApiError("QuotaExceeded.EipsPerHaVip", "The HAVIP already has an EIP bound."),
  },
  {
    name: CONSTRAINT.eipTargetVnic,
    sqliteColumns: "eips.target_vnic_id",
    error: () => new ApiError("IncorrectState.TargetHasEip", "The vNIC already has an EIP bound."),
  },
  {
    name: CONSTRAINT.havipMember,
    sqliteColumns: "havip_members.havip_id, havip_members.vnic_id",
    error: () => new ApiError("InvalidMember.Duplicate", "The member list names the same vNIC twice."),
  },
];

/** The catalogue error for a constraint violation, or null when e is something else. */
export function constraintError(e: unknown): ApiError | null {
  const v = asViolation(e);
  if (!v) return null;
  if (v.kind === "unique") {
    const rule = UNIQUE_RULES.find((r) => (v.name === null ? v.detail === r.sqliteColumns : v.name === r.name));
    return rule ? rule.error() : null;
  }
  if (v.kind === "check" && (v.name ?? v.detail) === CONSTRAINT.eipOneTarget) {
    return new ApiError("IncorrectState.EipBound", "An EIP is bound to at most one target.");
  }
  return null;
}

/** True for any unique-constraint violation (used to retry random ids or MACs on collision). */
export function isUniqueViolation(e: unknown): boolean {
  return asViolation(e)?.kind === "unique";
}
