// Whether the fabric agent still answers: a `ping` every interval, and no answer for the timeout makes it count as
// hung. A closed connection is not enough to tell: an agent that is stopped (SIGSTOP) or stuck in a loop keeps its
// socket open, and the kernel even accepts new connections on it.

export interface HeartbeatOptions {
  /** How often to ping the agent, ms (default 1000). */
  pingIntervalMs?: number;
  /** How long the agent may go without answering before it counts as hung, ms (default 3000). */
  pingTimeoutMs?: number;
}

export const DEFAULT_PING_INTERVAL_MS = 1000;
export const DEFAULT_PING_TIMEOUT_MS = 3000;

export class Heartbeat {
  private readonly ping: () => Promise<unknown>;
  private readonly onHung: (silentMs: number) => void;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  private lastAnswer = 0;
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

  /** Starts counting from now (the agent has just answered hello) and pings at once, then every interval. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.answered();
    this.beat();
    // Never what keeps a process alive.
    this.interval = setInterval(() => {
      this.beat();
    }, this.intervalMs).unref();
  }

  /** The agent answered: the timeout starts again. */
  answered(): void {
    if (this.stopped) return;
    this.lastAnswer = performance.now();
    this.arm(this.timeoutMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.interval !== null) clearInterval(this.interval);
    if (this.deadline !== null) clearTimeout(this.deadline);
    this.interval = null;
    this.deadline = null;
  }

  private beat(): void {
    this.ping().then(
      () => {
        this.answered();
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
    // Timers run before the loop reads its sockets: after a long pause of this process an answer may be waiting
    // unread. Look again once the loop has read them.
    setImmediate(() => {
      if (this.stopped || this.deadline !== deadline) return; // stopped, or answered meanwhile (re-armed)
      const silentMs = performance.now() - this.lastAnswer;
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
