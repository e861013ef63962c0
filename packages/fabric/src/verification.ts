// Verification (DESIGN §2.2): announcements are the fast signal, verification is the safety net. The fabric asks
// "who has <HAVIP>?" — an ARP request from the subnet's gateway address, sent only to the vNICs that may claim the
// HAVIP — and weighs the answers a moment later:
//   the holder answers (alone)              → confirmed, nothing changes;
//   the holder is silent, one other answers → that vNIC becomes the holder (generation + 1, `verified`);
//   several answer                          → contested; the holder stays if it is among them, else the most recent
//                                             announcer among them;
//   nobody answers, N rounds in a row       → the holder is released (generation + 1, `withdrawn`).
// A probe answer is not an announcement: it moves nothing by itself and is never flooded. The platform still never
// elects: it only looks at which instances have the address.
//
// Rounds are due when the fabric learns a HAVIP (start, restore, a newer holder from the spec), when asked
// (a control plane connected, a manual observation), when the holder's port goes, and periodically. One timer
// drives every HAVIP: each tick starts the rounds that are due and weighs the ones whose answers are in.
import { ARP_OP, BROADCAST_MAC } from "@havip/wire";
import type { Timer, TimerClock } from "./clock.ts";
import type { Observation } from "./observations.ts";
import type { PipelineState } from "./state.ts";
import { writeArpFrame } from "./stages/arp.ts";
import type { HaVipEntry, HaVipRuntime, VnicEntry } from "./tables.ts";

export interface VerificationOptions {
  /** Between two rounds of a HAVIP that has a holder, ms. */
  intervalMs: number;
  /** Between two rounds of a HAVIP without a holder (someone may have the address without announcing it), ms. */
  unheldIntervalMs: number;
  /** How long answers are collected after the probes are sent, ms. */
  answerWindowMs: number;
  /** The next round after one in which the holder was silent, ms (quicker than the interval). */
  retryMs: number;
  /** Rounds in a row without any answer after which the holder is released (`withdrawn`). */
  releaseAfterMisses: number;
  /** Probes per round at most (the holder first, then the others in turn). */
  maxTargets: number;
  /** How often due rounds are started and finished rounds weighed, ms. */
  tickMs: number;
}

export const DEFAULT_VERIFICATION: Readonly<VerificationOptions> = Object.freeze({
  intervalMs: 1000,
  unheldIntervalMs: 5000,
  answerWindowMs: 100,
  retryMs: 250,
  releaseAfterMisses: 3,
  maxTargets: 64,
  tickMs: 25,
});

/** What asked for a round; logged by whoever asked, kept here for the outcome. */
export type VerifyTrigger =
  "learned" | "control-plane" | "manual" | "port-gone" | "resigned" | "periodic" | "conflict" | "requested";

/** The result of one round. */
export interface VerificationOutcome {
  havipId: string;
  /**
   * `confirmed`: the holder answered (alone); `moved`: another vNIC had the address and became the holder;
   * `contested`: several answered; `silent`: nobody answered (the holder stays until N such rounds);
   * `released`: nobody answered N rounds in a row, the holder was released; `unheld`: no holder and nobody answered;
   * `unasked`: no vNIC that may claim it is attached, so nobody could be asked (nothing changes: no evidence).
   */
  outcome: "confirmed" | "moved" | "contested" | "silent" | "released" | "unheld" | "unasked";
  holderVnicId: string | null;
  generation: number;
  /** vNIC ids that answered (have the address). */
  answered: string[];
  at: number;
}

/** What verification needs of the fabric. */
export interface VerificationHost {
  readonly state: PipelineState;
  /** Sends a frame the fabric made to the port at `portIndex` (counted like any sent frame). */
  send(portIndex: number, frame: Uint8Array, len: number): void;
  emit(o: Observation): void;
}

export function checkVerificationOptions(o: VerificationOptions): string[] {
  const problems: string[] = [];
  const positive = (name: keyof VerificationOptions, min: number) => {
    const v = o[name];
    if (!Number.isFinite(v) || v < min) problems.push(`verification ${name} must be a number ≥ ${min}, got ${v}`);
  };
  positive("intervalMs", 10);
  positive("unheldIntervalMs", 10);
  positive("answerWindowMs", 1);
  positive("retryMs", 1);
  positive("releaseAfterMisses", 1);
  positive("maxTargets", 1);
  positive("tickMs", 1);
  if (o.answerWindowMs >= o.intervalMs) problems.push("verification answerWindowMs must be shorter than intervalMs");
  return problems;
}

export class Verification {
  readonly options: VerificationOptions;
  private readonly host: VerificationHost;
  private readonly clock: TimerClock;
  private timer: Timer | null = null;
  private readonly frame = new Uint8Array(64);
  /** Waiters for the next completed round of a HAVIP. */
  private readonly waiters = new Map<string, ((o: VerificationOutcome) => void)[]>();
  /** Where the rotating choice of probe targets starts next, per HAVIP (more candidates than maxTargets). */
  private readonly rotation = new Map<string, number>();
  private stopped = false;

  constructor(host: VerificationHost, clock: TimerClock, options: VerificationOptions) {
    this.host = host;
    this.clock = clock;
    this.options = options;
    this.schedule();
  }

  /** Makes a round of each HAVIP (every one when `ids` is null) due now; one under way is followed by another. */
  request(ids: readonly string[] | null): void {
    const havips = this.host.state.tables.havips;
    const list = ids === null ? [...havips.values()] : ids.map((id) => havips.get(id));
    for (const h of list) {
      if (h === undefined) continue;
      const rt = h.runtime;
      if (rt.probe !== null) rt.probeAgain = true;
      else rt.nextProbeAt = 0;
    }
  }

  /**
   * Resolves with the outcome of the next round of each HAVIP that is asked for now (unknown ids are left out).
   * Rounds end within about answerWindowMs + 2 ticks.
   */
  verify(ids: readonly string[] | null): Promise<VerificationOutcome[]> {
    const havips = this.host.state.tables.havips;
    const known = (ids ?? [...havips.keys()]).filter((id) => havips.has(id));
    this.request(known);
    return Promise.all(
      known.map(
        (id) =>
          new Promise<VerificationOutcome>((resolve) => {
            const list = this.waiters.get(id);
            if (list === undefined) this.waiters.set(id, [resolve]);
            else list.push(resolve);
          }),
      ),
    );
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimer(this.options.tickMs, () => {
      this.timer = null;
      try {
        this.tick();
      } finally {
        this.schedule();
      }
    });
  }

  /** Weighs the rounds whose answers are in and starts the ones that are due. */
  tick(): void {
    const now = this.clock.now();
    for (const h of this.host.state.tables.havips.values()) {
      const rt = h.runtime;
      if (rt.probe !== null) {
        if (now >= rt.probe.endsAt) this.finish(h, now);
        continue;
      }
      if (now >= rt.nextProbeAt) this.start(h, now);
    }
    // Waiters of HAVIPs that are gone (deleted meanwhile) get nothing more: drop them.
    for (const id of this.waiters.keys()) if (!this.host.state.tables.havips.has(id)) this.waiters.delete(id);
  }

  private start(h: HaVipEntry, now: number): void {
    const rt = h.runtime;
    const targets = this.targets(h);
    if (targets.length === 0) {
      // Nobody attached who could be asked (an API-only control plane, instances not attached yet): no evidence
      // either way, so nothing changes; ask again later.
      rt.probeAgain = false;
      rt.nextProbeAt = now + (h.holder === null ? this.options.unheldIntervalMs : this.options.intervalMs);
      this.resolveWaiters(h.id, {
        havipId: h.id,
        outcome: "unasked",
        holderVnicId: rt.holderVnicId,
        generation: rt.generation,
        answered: [],
        at: now,
      });
      return;
    }
    rt.probe = { startedAt: now, endsAt: now + this.options.answerWindowMs, asked: [], answered: new Set() };
    const len = writeArpFrame(
      this.frame,
      ARP_OP.REQUEST,
      BROADCAST_MAC,
      this.host.state.tables.routerMac,
      h.subnet.gatewayIp,
      0,
      h.ip,
    );
    for (const v of targets) {
      rt.probe.asked.push(v.id);
      rt.stats.probesSent++;
      this.host.send(v.portIndex, this.frame, len);
    }
  }

  /** The attached vNICs that may claim `h`, the holder first; at most maxTargets, the rest in turn. */
  private targets(h: HaVipEntry): VnicEntry[] {
    const out: VnicEntry[] = [];
    const holder = h.holder;
    if (holder !== null && holder.portIndex >= 0) out.push(holder);
    const others = h.subnet.vnics.filter((v) => v !== holder && v.portIndex >= 0 && h.mayClaim(v));
    const room = this.options.maxTargets - out.length;
    if (others.length <= room) return out.concat(others);
    const from = (this.rotation.get(h.id) ?? 0) % others.length;
    for (let i = 0; i < room; i++) out.push(others[(from + i) % others.length]!);
    this.rotation.set(h.id, from + room);
    return out;
  }

  private finish(h: HaVipEntry, now: number): void {
    const rt = h.runtime;
    const round = rt.probe!;
    rt.probe = null;
    rt.stats.verifications++;
    const tables = this.host.state.tables;
    // Answers from vNICs that may still claim (the spec may have changed during the round).
    const answered: VnicEntry[] = [];
    for (const id of round.answered) {
      const v = tables.vnics.get(id);
      if (v !== undefined && h.mayClaim(v)) answered.push(v);
    }
    answered.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const holder = h.holder;
    let outcome: VerificationOutcome["outcome"];
    if (answered.length === 0) {
      this.endContest(h, now);
      if (holder === null) {
        outcome = "unheld";
        rt.missedRounds = 0;
      } else if (++rt.missedRounds >= this.options.releaseAfterMisses) {
        outcome = "released";
        this.release(h, holder, now);
      } else {
        outcome = "silent";
      }
    } else if (answered.length === 1) {
      rt.missedRounds = 0;
      this.endContest(h, now);
      const only = answered[0]!;
      if (only !== holder || rt.conflict) {
        this.changeHolder(h, only, now);
        outcome = "moved";
      } else {
        outcome = "confirmed";
      }
    } else {
      rt.missedRounds = 0;
      let keep = holder !== null && answered.includes(holder) ? holder : null;
      if (keep === null) {
        // The most recent announcer among them (none announced: the first by id, so the choice is stable).
        keep = answered[0]!;
        let latest = rt.claimedAt.get(keep.id) ?? Number.NEGATIVE_INFINITY;
        for (const v of answered) {
          const at = rt.claimedAt.get(v.id) ?? Number.NEGATIVE_INFINITY;
          if (at > latest) {
            latest = at;
            keep = v;
          }
        }
      }
      if (keep !== holder || rt.conflict) this.changeHolder(h, keep, now);
      this.contest(
        h,
        answered.map((v) => v.id),
        now,
      );
      outcome = "contested";
    }
    rt.conflict = false;
    // Asked again during this round: its answers may predate the reason, so waiters get the next round's.
    const again = rt.probeAgain;
    if (again) {
      rt.probeAgain = false;
      rt.nextProbeAt = 0;
    } else if (outcome === "silent") {
      rt.nextProbeAt = now + this.options.retryMs;
    } else {
      rt.nextProbeAt = now + (h.holder === null ? this.options.unheldIntervalMs : this.options.intervalMs);
    }
    const result: VerificationOutcome = {
      havipId: h.id,
      outcome,
      holderVnicId: rt.holderVnicId,
      generation: rt.generation,
      answered: answered.map((v) => v.id),
      at: now,
    };
    if (!again) this.resolveWaiters(h.id, result);
  }

  private resolveWaiters(havipId: string, result: VerificationOutcome): void {
    const waiting = this.waiters.get(havipId);
    if (waiting === undefined) return;
    this.waiters.delete(havipId);
    for (const w of waiting) w(result);
  }

  private changeHolder(h: HaVipEntry, v: VnicEntry, now: number): void {
    const rt: HaVipRuntime = h.runtime;
    const previous = h.holder;
    h.holder = v;
    rt.holderVnicId = v.id;
    rt.generation++;
    rt.holderSince = now;
    rt.stats.holderChanges++;
    rt.stats.verifiedChanges++;
    rt.lastReason = "verified";
    rt.noteChange(now, v.id);
    this.host.emit({
      kind: "holder-changed",
      havipId: h.id,
      vnicId: v.id,
      previousVnicId: previous === null ? null : previous.id,
      generation: rt.generation,
      reason: "verified",
      at: now,
    });
  }

  private release(h: HaVipEntry, holder: VnicEntry, now: number): void {
    const rt = h.runtime;
    h.holder = null;
    rt.holderVnicId = null;
    rt.generation++;
    rt.holderSince = now;
    rt.missedRounds = 0;
    rt.lastReason = "withdrawn";
    rt.stats.withdrawals++;
    this.host.emit({
      kind: "holder-released",
      havipId: h.id,
      previousVnicId: holder.id,
      generation: rt.generation,
      reason: "withdrawn",
      at: now,
    });
  }

  private contest(h: HaVipEntry, claimants: string[], now: number): void {
    const rt = h.runtime;
    const before = rt.contest;
    if (before !== null && before.claimants.length === claimants.length) {
      if (before.claimants.every((c, i) => c === claimants[i])) return;
    }
    rt.contest = { since: before?.since ?? now, claimants };
    this.host.emit({
      kind: "contest-started",
      havipId: h.id,
      claimants: [...claimants],
      holderVnicId: rt.holderVnicId,
      since: rt.contest.since,
      at: now,
    });
  }

  private endContest(h: HaVipEntry, now: number): void {
    const rt = h.runtime;
    if (rt.contest === null) return;
    const since = rt.contest.since;
    rt.contest = null;
    this.host.emit({ kind: "contest-ended", havipId: h.id, since, at: now });
  }
}
