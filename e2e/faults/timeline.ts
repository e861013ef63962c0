// The checker's arithmetic, kept pure so that it can be tested without a lab: from what the prober saw (each
// probe sent, each answer: who answered and whether it had the address), which instances had the address
// (sampled with `ip -4 addr show`) and who the API named as holder, how long the HAVIP stayed black-holed
// after a fault ended and when the API first named the instance that really has the address.

/** One probe: when it left vm-c and, if answered, when the answer came back and from whom. */
export interface Probe {
  seq: number;
  sentAt: number;
  answer?: { at: number; by: string; hadAddress: boolean };
}

/** Which instances had the address at `at` (from `ip -4 addr show` in each member's namespace). */
export interface AddressSample {
  at: number;
  holders: readonly string[];
}

/** Who the API named as holder at `at` (an instance's lab name, null for none, undefined: no answer). */
export interface ApiSample {
  at: number;
  holder: string | null | undefined;
}

export interface Timeline {
  probes: readonly Probe[];
  addresses: readonly AddressSample[];
  api: readonly ApiSample[];
}

export interface Measurement {
  /** The longest span after the fault ended during which probes went unanswered by an address holder. */
  blackHoleMs: number;
  /** Probes sent from the fault's start to the end of the observation that no address holder answered. */
  lostProbes: number;
  /** Of those, the ones sent after the fault ended. */
  lostAfterEnd: number;
  /** From the fault's end until the API named the instance that has the address for good; null: never did. */
  apiCorrectAfterMs: number | null;
  /** When the API first named it (it may have wavered after). */
  apiFirstCorrectAfterMs: number | null;
  /** Whether the last probes of the observation were answered by an address holder. */
  recovered: boolean;
  /** Who answered the last good probe. */
  answeredBy: string | null;
  /** Probes sent in the observed span, and how many were answered at all. */
  probes: number;
  answered: number;
}

/** A probe counts as delivered when an instance that had the address answered it within this time. */
export const ANSWER_DEADLINE_MS = 1000;

export function goodProbe(p: Probe): boolean {
  return p.answer !== undefined && p.answer.hadAddress && p.answer.at - p.sentAt <= ANSWER_DEADLINE_MS;
}

/** Who had the address at `at`: the latest sample at or before it (the first one if none is earlier). */
export function holdersAt(addresses: readonly AddressSample[], at: number): readonly string[] | undefined {
  let found: AddressSample | undefined;
  for (const s of addresses) {
    if (s.at <= at) found = s;
    else break;
  }
  return (found ?? addresses[0])?.holders;
}

/** Whether the API's answer names an instance that has the address (or nobody, when nobody has it). */
export function apiCorrect(sample: ApiSample, holders: readonly string[] | undefined): boolean {
  if (sample.holder === undefined || holders === undefined) return false;
  if (holders.length === 0) return sample.holder === null;
  return sample.holder !== null && holders.includes(sample.holder);
}

/**
 * Measures a fault that started at `startedAt` and ended at `endedAt`, observed until `until` (probes sent in
 * the last ANSWER_DEADLINE_MS before `until` are ignored: their answers may still be on the way).
 */
export function measure(timeline: Timeline, startedAt: number, endedAt: number, until: number): Measurement {
  const cutoff = until - ANSWER_DEADLINE_MS;
  const probes = timeline.probes.filter((p) => p.sentAt >= startedAt && p.sentAt <= cutoff);
  let lostProbes = 0;
  let lostAfterEnd = 0;
  let blackHoleMs = 0;
  let runStart: number | undefined;
  let answeredBy: string | null = null;
  for (const p of probes) {
    if (goodProbe(p)) {
      if (runStart !== undefined && p.sentAt > endedAt) {
        blackHoleMs = Math.max(blackHoleMs, p.sentAt - Math.max(runStart, endedAt));
      }
      runStart = undefined;
      answeredBy = p.answer?.by ?? null;
    } else {
      lostProbes++;
      if (p.sentAt >= endedAt) lostAfterEnd++;
      runStart ??= p.sentAt;
    }
  }
  const recovered = runStart === undefined && probes.length > 0;
  if (runStart !== undefined) blackHoleMs = Math.max(blackHoleMs, cutoff - Math.max(runStart, endedAt));

  const api = timeline.api.filter((s) => s.at >= endedAt && s.at <= until);
  // Right at the fault's end if the last answer before it was right (and stays so): the API never wavered.
  const before = timeline.api.filter((s) => s.at < endedAt).at(-1);
  const rightBefore = before !== undefined && apiCorrect(before, holdersAt(timeline.addresses, endedAt));
  let firstCorrect: number | null = rightBefore ? endedAt : null;
  let streakStart: number | null = rightBefore ? endedAt : null;
  for (const s of api) {
    if (apiCorrect(s, holdersAt(timeline.addresses, s.at))) {
      firstCorrect ??= s.at;
      streakStart ??= s.at;
    } else {
      streakStart = null;
    }
  }
  return {
    blackHoleMs: Math.max(0, Math.round(blackHoleMs)),
    lostProbes,
    lostAfterEnd,
    apiCorrectAfterMs: streakStart === null ? null : Math.max(0, Math.round(streakStart - endedAt)),
    apiFirstCorrectAfterMs: firstCorrect === null ? null : Math.max(0, Math.round(firstCorrect - endedAt)),
    recovered,
    answeredBy,
    probes: probes.length,
    answered: probes.filter((p) => p.answer !== undefined).length,
  };
}

/**
 * Whether the observation can stop: for the last `stableMs`, every probe that had time to be answered was
 * answered by an address holder and every API answer named one.
 */
export function settled(timeline: Timeline, endedAt: number, now: number, stableMs: number): boolean {
  const from = now - stableMs;
  if (from < endedAt) return false;
  const cutoff = now - ANSWER_DEADLINE_MS / 4;
  const probes = timeline.probes.filter((p) => p.sentAt >= from && p.sentAt <= cutoff);
  if (probes.length === 0 || !probes.every(goodProbe)) return false;
  const api = timeline.api.filter((s) => s.at >= from);
  return api.length > 0 && api.every((s) => apiCorrect(s, holdersAt(timeline.addresses, s.at)));
}
