// The small amount of IPv4 and MAC checking the lab needs before it hands values to ip(8). The lab has no
// dependencies; full CIDR math lives in @havip/ipam.
import { LabError } from "./errors.ts";

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function isIpv4(text: string): boolean {
  return IPV4.test(text);
}

export function ipv4ToNumber(text: string): number {
  return text.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
}

export function numberToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => String(Math.floor(n / 2 ** shift) % 256)).join(".");
}

export function sameSubnet(a: string, b: string, prefixLen: number): boolean {
  const size = 2 ** (32 - prefixLen);
  return Math.floor(ipv4ToNumber(a) / size) === Math.floor(ipv4ToNumber(b) / size);
}

/** A MAC an instance may use: six lower- or upper-case hex pairs, unicast (group bit clear), not all zero. */
export function isUnicastMac(text: string): boolean {
  const mac = text.toLowerCase();
  if (!MAC.test(mac) || mac === "00:00:00:00:00:00") return false;
  return (parseInt(mac.slice(0, 2), 16) & 1) === 0;
}

export function requireIpv4(what: string, value: string): void {
  if (!isIpv4(value)) throw invalid(`${what} '${value}' is not an IPv4 address in dotted-quad form`);
}

export function requireInteger(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${what} must be an integer from ${min} to ${max}, not ${String(value)}`);
  }
}

export function invalid(message: string): LabError {
  return new LabError("Lab.InvalidParameter", message);
}
