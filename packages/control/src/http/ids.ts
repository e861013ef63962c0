// Resource ids carry a type prefix (vpc-…, havip-…). The schemas check the prefix and form, so a
// path or body id of the wrong kind is answered 400 InvalidId before any service call; a well-formed id
// that does not exist (or belongs to another project) is the services' 404 NotFound.
import { Type } from "typebox";

export const ID_PREFIXES = {
  project: "proj",
  vpc: "vpc",
  subnet: "subnet",
  instance: "i",
  vnic: "eni",
  havip: "havip",
  eip: "eip",
  pool: "pool",
} as const;
export type IdKind = keyof typeof ID_PREFIXES;

// The services mint ids as the prefix and 17 lowercase hex digits (domain/ids.ts).
const ID_BODY = "[0-9a-f]{17}";

/** The regular expression source for ids of one kind. */
export function idPattern(kind: IdKind): string {
  return `^${ID_PREFIXES[kind]}-${ID_BODY}$`;
}

export function isId(kind: IdKind, value: string): boolean {
  return new RegExp(idPattern(kind)).test(value);
}

export function idSchema(kind: IdKind) {
  return Type.String({
    pattern: idPattern(kind),
    description: `${kind} id (${ID_PREFIXES[kind]}-…)`,
  });
}

/** A HAVIP member: a vNIC id or an instance id (its vNIC in the HAVIP's subnet). */
const MEMBER_PATTERN = `^(${ID_PREFIXES.vnic}|${ID_PREFIXES.instance})-${ID_BODY}$`;

export function memberIdSchema() {
  return Type.String({ pattern: MEMBER_PATTERN, description: "vNIC id (eni-…) or instance id (i-…)" });
}

/** Every id pattern the schemas use: a `pattern` failure against one of these is an InvalidId. */
export const ID_PATTERNS: ReadonlySet<string> = new Set([
  ...(Object.keys(ID_PREFIXES) as IdKind[]).map(idPattern),
  MEMBER_PATTERN,
]);

export function idParams(kind: IdKind) {
  return Type.Object({ id: idSchema(kind) }, { additionalProperties: false });
}
