// Bearer tokens. Project tokens are random, shown once and stored only as a SHA-256 hash; the operator
// token is compared in constant time (through fixed-length digests, so lengths leak nothing either).
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export function newProjectToken(): string {
  return `hvp_${randomBytes(32).toString("base64url")}`;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given, "utf8").digest();
  const b = createHash("sha256").update(expected, "utf8").digest();
  return timingSafeEqual(a, b);
}
