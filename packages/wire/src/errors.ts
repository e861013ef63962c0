// Why a packet could not be read. The data plane never throws per packet: codecs return one of these
// preallocated, frozen records, so returning an error allocates nothing and can be compared by identity.

export type WireErrorReason =
  | "truncated"
  | "bad-version"
  | "bad-header-length"
  | "bad-total-length"
  | "bad-length"
  | "bad-checksum"
  | "bad-hardware-type"
  | "bad-protocol-type"
  | "bad-address-length"
  | "bad-operation"
  | "bad-type"
  | "bad-flags"
  | "unsupported";

export interface WireError {
  readonly wireError: WireErrorReason;
}

function reason(wireError: WireErrorReason): WireError {
  return Object.freeze({ wireError });
}

/** One frozen error record per reason; codecs return these, never fresh objects. */
export const WIRE_ERRORS: { readonly [R in WireErrorReason]: WireError } = Object.freeze({
  truncated: reason("truncated"),
  "bad-version": reason("bad-version"),
  "bad-header-length": reason("bad-header-length"),
  "bad-total-length": reason("bad-total-length"),
  "bad-length": reason("bad-length"),
  "bad-checksum": reason("bad-checksum"),
  "bad-hardware-type": reason("bad-hardware-type"),
  "bad-protocol-type": reason("bad-protocol-type"),
  "bad-address-length": reason("bad-address-length"),
  "bad-operation": reason("bad-operation"),
  "bad-type": reason("bad-type"),
  "bad-flags": reason("bad-flags"),
  unsupported: reason("unsupported"),
});

/** Every reason, e.g. to pre-register drop counters. */
export const WIRE_ERROR_REASONS: readonly WireErrorReason[] = Object.freeze(
  Object.keys(WIRE_ERRORS) as WireErrorReason[],
);

export function isWireError(x: unknown): x is WireError {
  return typeof x === "object" && x !== null && "wireError" in x;
}
