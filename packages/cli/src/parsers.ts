// Option value parsers: a bad value is a usage error (exit 2) that names the option.
import { InvalidArgumentError } from "@commander-js/extra-typings";

export function integerIn(min: number, max: number): (text: string) => number {
  return (text: string): number => {
    if (!/^\d+$/.test(text)) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    const value = Number(text);
    if (value < min || value > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return value;
  };
}

export const pageSize = integerIn(1, 1000);
export const revision = integerIn(0, Number.MAX_SAFE_INTEGER);
export const quotaValue = integerIn(0, 1_000_000);
/** A VPC's MTU, as the API allows it (1280–8950: jumbo frames). */
export const vpcMtu = integerIn(1280, 8950);

export function isoTime(text: string): string {
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError("expected an ISO 8601 time such as 2025-01-02T03:04:05Z");
  }
  return date.toISOString();
}

/** For repeatable options: --member a --member b. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
