// Validation of domain values that the HTTP schemas cannot fully express (or that other callers of the
// services might get wrong): addresses, CIDRs, names, regions and zones.
import { type Cidr, type IPv4, parseCidr, parseIPv4 } from "@havip/ipam";
import { ApiError } from "../errors.ts";

export const VPC_PREFIX = { min: 16, max: 28 } as const;
export const SUBNET_PREFIX = { min: 16, max: 29 } as const;
export const POOL_PREFIX = { min: 8, max: 32 } as const;
/** A VPC's MTU: IPv6's minimum link MTU up to the jumbo frames clouds offer (8950 + 50 bytes of VXLAN). */
export const VPC_MTU = { min: 1280, max: 8950, default: 1500 } as const;

export function requireIPv4(text: unknown, field: string): IPv4 {
  if (typeof text !== "string") throw new ApiError("InvalidParameter", `${field} must be a string.`);
  const r = parseIPv4(text);
  if (r.ok) return r.value;
  if (r.error === "ipv6") throw new ApiError("InvalidIpAddress.NotIPv4", `${field}: only IPv4 is supported.`);
  throw new ApiError("InvalidIpAddress.Malformed", `${field} is not an IPv4 address in dotted-quad form.`);
}

export function requireCidr(text: unknown, field: string, prefix: { min: number; max: number }): Cidr {
  if (typeof text !== "string") throw new ApiError("InvalidParameter", `${field} must be a string.`);
  const r = parseCidr(text);
  if (!r.ok) {
    if (r.error === "ipv6") throw new ApiError("InvalidCidr.NotIPv4", `${field}: only IPv4 is supported.`);
    if (r.error === "host-bits") {
      throw new ApiError("InvalidCidr.HostBits", `${field} has host bits set; use the network address.`);
    }
    throw new ApiError("InvalidCidr.Malformed", `${field} is not an IPv4 CIDR block such as 10.0.0.0/16.`);
  }
  if (r.value.prefix < prefix.min || r.value.prefix > prefix.max) {
    throw new ApiError(
      "InvalidCidr.PrefixLength",
      `${field} must have a prefix length from /${prefix.min} to /${prefix.max}.`,
    );
  }
  return r.value;
}

/** An integer in [min, max]; `range.default` when absent. */
export function requireInteger(
  value: unknown,
  field: string,
  range: { min: number; max: number; default: number },
): number {
  if (value === undefined) return range.default;
  if (typeof value !== "number" || !Number.isInteger(value) || value < range.min || value > range.max) {
    throw new ApiError("InvalidParameter", `${field} must be an integer from ${range.min} to ${range.max}.`);
  }
  return value;
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/** Region and zone names: lowercase letters, digits and inner dashes, up to 64 characters. */
export function requireLabel(value: unknown, field: string): string {
  if (typeof value !== "string" || !LABEL.test(value)) {
    throw new ApiError("InvalidParameter", `${field} must be 1–64 lowercase letters, digits or dashes.`);
  }
  return value;
}

/** Names and descriptions: any text without control characters, up to max characters. */
export function requireText(value: unknown, field: string, opts: { max: number; required?: boolean }): string {
  if (value === undefined && !opts.required) return "";
  if (typeof value !== "string") throw new ApiError("InvalidParameter", `${field} must be a string.`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value))
    throw new ApiError("InvalidParameter", `${field} contains control characters.`);
  if (value.length > opts.max)
    throw new ApiError("InvalidParameter", `${field} is longer than ${opts.max} characters.`);
  if (opts.required && value.trim() === "") throw new ApiError("InvalidParameter", `${field} must not be empty.`);
  return value;
}
