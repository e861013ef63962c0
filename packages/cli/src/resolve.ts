// A command that takes an id also takes a name (or, for an EIP, its public address), looked up through the
// list endpoint when that is unambiguous. Something shaped like an id of the kind (its prefix and 17 hex
// digits, docs/reference/api.md) is taken as an id without a lookup.
import type { ApiClient } from "./client.ts";
import { ApiRequestError } from "./errors.ts";

export interface ReferenceKind<T> {
  noun: string; // for messages: "VPC", "instance"
  prefix: string; // "vpc-"
  listPath: string;
  /** The value a reference may match besides the id (the name; an EIP's public address). */
  label: (item: T) => string;
}

export const KINDS = {
  vpc: { noun: "VPC", prefix: "vpc-", listPath: "/v1/vpcs", label: (x: { name: string }) => x.name },
  subnet: { noun: "subnet", prefix: "subnet-", listPath: "/v1/subnets", label: (x: { name: string }) => x.name },
  instance: { noun: "instance", prefix: "i-", listPath: "/v1/instances", label: (x: { name: string }) => x.name },
  havip: { noun: "HAVIP", prefix: "havip-", listPath: "/v1/havips", label: (x: { name: string }) => x.name },
  eip: { noun: "EIP", prefix: "eip-", listPath: "/v1/eips", label: (x: { publicIp: string }) => x.publicIp },
  pool: { noun: "address pool", prefix: "pool-", listPath: "/v1/eip-pools", label: (x: { cidr: string }) => x.cidr },
  project: { noun: "project", prefix: "proj-", listPath: "/v1/projects", label: (x: { name: string }) => x.name },
} as const;

export function looksLikeId(kind: { prefix: string }, ref: string): boolean {
  return ref.startsWith(kind.prefix) && /^[0-9a-f]{17}$/.test(ref.slice(kind.prefix.length));
}

/** The id a reference stands for. Names are compared exactly (case-sensitive). */
export async function resolveId<T extends { id: string }>(
  client: ApiClient,
  kind: ReferenceKind<T>,
  ref: string,
): Promise<string> {
  if (looksLikeId(kind, ref)) return ref;
  const matches = (await client.listAll<T>(kind.listPath)).filter((item) => kind.label(item) === ref);
  const [only, second] = matches;
  if (only === undefined) {
    throw new ApiRequestError("NotFound", `no ${kind.noun} with id or name "${ref}"`, 404);
  }
  if (second !== undefined) {
    const ids = matches.map((m) => m.id).join(", ");
    throw new ApiRequestError(
      "InvalidParameter",
      `"${ref}" names ${matches.length} ${kind.noun}s (${ids}); use an id`,
      400,
    );
  }
  return only.id;
}
