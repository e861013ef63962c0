// ICMP for IPv4 (RFC 792): echo request/reply and the error messages that embed the offending packet.
// Offsets are relative to the ICMP header; `len` is the ICMP message length (the IPv4 payload length:
// the checksum covers exactly the message, never Ethernet padding).

import { fits, readU16, readU32, writeU16, writeU32 } from "./bytes.ts";
import { internetChecksum, onesComplementSum } from "./checksum.ts";
import { WIRE_ERRORS, type WireError } from "./errors.ts";

export const ICMP_TYPE = { ECHO_REPLY: 0, DEST_UNREACHABLE: 3, ECHO_REQUEST: 8, TIME_EXCEEDED: 11 } as const;
export const ICMP_HEADER_LEN = 8;
export const ICMP_TYPE_OFF = 0;
export const ICMP_CODE = 1;
export const ICMP_CSUM = 2;
/** Echo: identifier and sequence number. Errors: the "rest of header" word (unused, MTU or pointer). */
export const ICMP_ECHO_ID = 4;
export const ICMP_ECHO_SEQ = 6;
export const ICMP_REST_OF_HEADER = 4;
/** Where an error message's embedded IPv4 header starts. */
export const ICMP_ERROR_EMBEDDED_OFFSET = 8;

/** Destination unreachable, source quench, redirect, time exceeded, parameter problem (RFC 1122 3.2.2). */
export function isIcmpError(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

export interface IcmpEchoRepr {
  type: typeof ICMP_TYPE.ECHO_REQUEST | typeof ICMP_TYPE.ECHO_REPLY;
  id: number;
  seq: number;
  /** The echoed data; a view into the parsed buffer (not a copy). */
  payload: Uint8Array;
}

export interface IcmpErrorRepr {
  type: number;
  code: number;
  /** Bytes 4-7: unused (0), the next-hop MTU (RFC 1191) or the parameter-problem pointer. */
  restOfHeader: number;
  /** The offending packet's IPv4 header and leading payload bytes; a view into the parsed buffer. */
  embedded: Uint8Array;
}

/** The checksum to store for the message buf[off, off + len), its checksum field taken as zero. */
export function icmpChecksum(buf: Uint8Array, off: number, len: number): number {
  const before = onesComplementSum(buf, off, off + ICMP_CSUM);
  return internetChecksum(buf, off + ICMP_CSUM + 2, off + len, before);
}

export function verifyIcmpChecksum(buf: Uint8Array, off: number, len: number): boolean {
  return onesComplementSum(buf, off, off + len) === 0xffff;
}

/** An 8-byte header within `len` and a valid checksum over the message. */
export function checkIcmp(buf: Uint8Array, off: number, len: number): WireError | undefined {
  if (len < ICMP_HEADER_LEN || !fits(buf, off, len)) return WIRE_ERRORS.truncated;
  if (!verifyIcmpChecksum(buf, off, len)) return WIRE_ERRORS["bad-checksum"];
  return undefined;
}

function view(buf: Uint8Array, start: number, end: number): Uint8Array {
  // A plain Uint8Array view even when buf is a Node Buffer (whose subarray would be a Buffer).
  return new Uint8Array(buf.buffer, buf.byteOffset + start, end - start);
}

export function parseIcmpEcho(buf: Uint8Array, off: number, len: number): IcmpEchoRepr | WireError {
  const error = checkIcmp(buf, off, len);
  if (error) return error;
  const type = buf[off + ICMP_TYPE_OFF]!;
  if (type !== ICMP_TYPE.ECHO_REQUEST && type !== ICMP_TYPE.ECHO_REPLY) return WIRE_ERRORS["bad-type"];
  return {
    type,
    id: readU16(buf, off + ICMP_ECHO_ID),
    seq: readU16(buf, off + ICMP_ECHO_SEQ),
    payload: view(buf, off + ICMP_HEADER_LEN, off + len),
  };
}

/** Writes header and payload at `off` (code 0) with the checksum; returns the message length. */
export function emitIcmpEcho(repr: IcmpEchoRepr, buf: Uint8Array, off: number): number {
  buf[off + ICMP_TYPE_OFF] = repr.type;
  buf[off + ICMP_CODE] = 0;
  writeU16(buf, off + ICMP_ECHO_ID, repr.id);
  writeU16(buf, off + ICMP_ECHO_SEQ, repr.seq);
  buf.set(repr.payload, off + ICMP_HEADER_LEN);
  const len = ICMP_HEADER_LEN + repr.payload.length;
  writeU16(buf, off + ICMP_CSUM, icmpChecksum(buf, off, len));
  return len;
}

export function parseIcmpError(buf: Uint8Array, off: number, len: number): IcmpErrorRepr | WireError {
  const error = checkIcmp(buf, off, len);
  if (error) return error;
  const type = buf[off + ICMP_TYPE_OFF]!;
  if (!isIcmpError(type)) return WIRE_ERRORS["bad-type"];
  return {
    type,
    code: buf[off + ICMP_CODE]!,
    restOfHeader: readU32(buf, off + ICMP_REST_OF_HEADER),
    embedded: view(buf, off + ICMP_ERROR_EMBEDDED_OFFSET, off + len),
  };
}

/** Writes header and embedded bytes at `off` with the checksum; returns the message length. */
export function emitIcmpError(repr: IcmpErrorRepr, buf: Uint8Array, off: number): number {
  buf[off + ICMP_TYPE_OFF] = repr.type;
  buf[off + ICMP_CODE] = repr.code;
  writeU32(buf, off + ICMP_REST_OF_HEADER, repr.restOfHeader);
  buf.set(repr.embedded, off + ICMP_ERROR_EMBEDDED_OFFSET);
  const len = ICMP_ERROR_EMBEDDED_OFFSET + repr.embedded.length;
  writeU16(buf, off + ICMP_CSUM, icmpChecksum(buf, off, len));
  return len;
}
