// Whether the fabric agent still answers: a `ping` every interval, and a ping unanswered for the timeout makes it
// count as hung. A closed connection is not enough to tell: an agent that is stopped (SIGSTOP) or stuck in a loop
// keeps its socket open, and the kernel even accepts new connections on it.

export interface HeartbeatOptions {
  /** How often to ping the agent, ms (default 1000). */
  pingIntervalMs?: number;
  /** How long a ping may go unanswered before the agent counts as hung, ms (default 3000). */
  pingTimeoutMs?: number;
}

export const DEFAULT_PING_INTERVAL_MS = 1000;
export const DEFAULT_PING_TIMEOUT_MS = 3000;

/**
 * The agent counts as hung when a ping has gone unanswered for the timeout: measured from the ping, not from the
 * last answer, so that a pause of this process (its timers firing late, all at once) is not taken for the agent's.
 */
export class Heartbeat {
  private readonly ping: () => Promise<unknown>;
  private readonly onHung: (silentMs: number) => void;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** When the oldest ping not answered yet was sent (null: every ping so far was answered). */
  private waitingSince: number | null = null;
  private interval: NodeJS.Timeout | null = null;
  private deadline: NodeJS.Timeout | null = null;
  private stopped = true;

  /** `ping` resolves when the agent answers; a rejection (no connection) is no answer. */
  constructor(ping: () => Promise<unknown>, onHung: (silentMs: number) => void, options: HeartbeatOptions = {}) {
    this.ping = ping;
    this.onHung = onHung;
    this.intervalMs = options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
    this.timeoutMs = options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS;
  }

  /** Pings at once, then every interval. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.beat();
    // Never what keeps a process alive.
    this.interval = setInterval(() => {
      this.beat();
    }, this.intervalMs).unref();
  }

  /** The agent answered (a ping, or a new connection's hello): nothing is waiting any more. */
  answered(): void {
    this.waitingSince = null;
    if (this.deadline !== null) clearTimeout(this.deadline);
    this.deadline = null;
  }

  stop(): void {
    this.stopped = true;
    if (this.interval !== null) clearInterval(this.interval);
    this.interval = null;
    this.answered();
  }

  private beat(): void {
    if (this.stopped) return;
    if (this.waitingSince === null) {
      this.waitingSince = performance.now();
      this.arm(this.timeoutMs);
    }
    this.ping().then(
      () => {
        if (!this.stopped) this.answered();
      },
      () => undefined,
    );
  }

  private arm(ms: number): void {
    if (this.deadline !== null) clearTimeout(this.deadline);
    const deadline: NodeJS.Timeout = setTimeout(() => {
      this.expire(deadline);
    }, ms).unref();
    this.deadline = deadline;
  }

  private expire(deadline: NodeJS.Timeout): void {
    // Timers run before the loop reads its sockets: after a pause of this process an answer may be waiting
    // unread. Look again once the loop has read them.
    setImmediate(() => {
      if (this.stopped || this.deadline !== deadline || this.waitingSince === null) return; // answered meanwhile
      const silentMs = performance.now() - this.waitingSince;
      // The timers' clock may run a little behind this one: wait for the rest.
      if (silentMs < this.timeoutMs) {
        this.arm(Math.ceil(this.timeoutMs - silentMs));
        return;
      }
      this.stop();
      this.onHung(Math.round(silentMs));
    });
  }
}
