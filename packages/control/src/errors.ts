// The one catalogue of the API's error codes. Codes are stable strings in cloud style; each has an HTTP
// status and a one-line description used in docs/reference/errors.md and the OpenAPI document.
// A test keeps this catalogue, the docs page and the OpenAPI document in sync.

export const ERROR_CATALOGUE = {
  InvalidParameter: { status: 400, description: "A parameter is missing, has the wrong type, or is not allowed." },
  MalformedRequest: { status: 400, description: "The request body is not valid JSON." },
  UnsupportedMediaType: { status: 415, description: "The request body is not application/json." },
  PayloadTooLarge: { status: 413, description: "The request body is larger than the API accepts." },
  InvalidId: { status: 400, description: "An id does not have the expected type prefix or form." },
  "InvalidIpAddress.Malformed": { status: 400, description: "The value is not an IPv4 address in dotted-quad form." },
  "InvalidIpAddress.NotIPv4": { status: 400, description: "An IPv6 address was given; only IPv4 is supported." },
  "InvalidIpAddress.NotInSubnet": { status: 400, description: "The address is outside the subnet's CIDR." },
  "InvalidIpAddress.Reserved": {
    status: 400,
    description: "The address is the subnet's network, gateway or broadcast address.",
  },
  "InvalidIpAddress.InUse": { status: 409, description: "The address is already used by a vNIC or HAVIP." },
  "InvalidCidr.Malformed": { status: 400, description: "The value is not an IPv4 CIDR block." },
  "InvalidCidr.NotIPv4": { status: 400, description: "An IPv6 CIDR was given; only IPv4 is supported." },
  "InvalidCidr.PrefixLength": { status: 400, description: "The prefix length is outside the allowed range." },
  "InvalidCidr.NotInVpc": { status: 400, description: "The subnet's CIDR is not inside the VPC's CIDR." },
  "InvalidCidr.Overlap": { status: 409, description: "The CIDR overlaps a sibling subnet or an existing pool." },
  "InvalidCidr.HostBits": { status: 400, description: "The CIDR has host bits set (use the network address)." },
  "InvalidMember.NotInSubnet": {
    status: 400,
    description: "A member vNIC or instance has no vNIC in the HAVIP's subnet.",
  },
  "InvalidMember.Duplicate": { status: 400, description: "The member list names the same vNIC twice." },
  "InvalidEip.RegionMismatch": { status: 400, description: "The EIP and its target are in different regions." },
  "InvalidVnic.SubnetNotInVpc": { status: 400, description: "The subnet is not in the instance's VPC." },
  "InsufficientAddresses.Subnet": { status: 409, description: "The subnet has no free address left." },
  "InsufficientAddresses.EipPool": { status: 409, description: "The region's EIP pools have no free address left." },
  "QuotaExceeded.MembersPerHaVip": { status: 409, description: "A HAVIP may have at most N members." },
  "QuotaExceeded.HaVipsPerVnic": { status: 409, description: "A vNIC may be in at most N HAVIP member lists." },
  "QuotaExceeded.EipsPerHaVip": { status: 409, description: "A HAVIP may have at most N EIPs bound." },
  "QuotaExceeded.HaVipsPerProject": { status: 409, description: "The project has reached its HAVIP limit." },
  "DependencyViolation.VpcHasSubnets": { status: 409, description: "The VPC still has subnets." },
  "DependencyViolation.SubnetHasInstances": { status: 409, description: "The subnet still has vNICs of instances." },
  "DependencyViolation.SubnetHasHaVips": { status: 409, description: "The subnet still has HAVIPs." },
  "DependencyViolation.HaVipHasEip": { status: 409, description: "The HAVIP still has an EIP bound." },
  "DependencyViolation.VnicHasEip": { status: 409, description: "The vNIC still has an EIP bound." },
  "DependencyViolation.EipBound": {
    status: 409,
    description: "The EIP is bound; disassociate it before releasing it.",
  },
  "DependencyViolation.PoolHasEips": { status: 409, description: "The pool still has allocated EIPs." },
  "IncorrectState.EipBound": { status: 409, description: "The EIP is bound; disassociate it first." },
  "IncorrectState.EipNotBound": { status: 409, description: "The EIP is not bound to anything." },
  "IncorrectState.TargetHasEip": { status: 409, description: "The target already has an EIP bound." },
  "IncorrectState.HolderNotAllowed": {
    status: 409,
    description: "The vNIC may not claim this HAVIP (other subnet, not a member, or unknown).",
  },
  "IdempotencyKey.Mismatch": {
    status: 422,
    description: "The Idempotency-Key was used before with a different request.",
  },
  Unauthorized: { status: 401, description: "No valid bearer token was given." },
  Forbidden: { status: 403, description: "The token may not call this endpoint." },
  NotFound: { status: 404, description: "The resource does not exist (or belongs to another project)." },
  MethodNotAllowed: { status: 405, description: "The path exists but not with this method." },
  "EventLog.Expired": { status: 410, description: "The requested revision is older than the retained change log." },
  InternalError: { status: 500, description: "An unexpected error; the requestId identifies it in the logs." },
  FabricUnavailable: {
    status: 503,
    description: "The fabric agent is not connected; havipd is reconnecting to it.",
  },
  "ServiceUnavailable.Store": {
    status: 503,
    description: "The database is away; havipd reconnects by itself (retry).",
  },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** An error the API reports as `{"error": {code, message, requestId}}` with the catalogue's status. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}
