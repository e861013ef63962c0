// The checker: vm-c's prober (a UDP probe to the HAVIP every 20 ms, each answer naming the instance that sent
// it and whether it had the address), samples of which members have the address (`ip -4 addr show`) and of
// the API's holder, gathered into one timeline around each fault; `measure` turns a window into figures.
import { spawn, type ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { measure, settled, type AddressSample, type ApiSample, type Measurement, type Probe } from "./timeline.ts";

const PROBER = fileURLToPath(new URL("./prober.ts", import.meta.url));
export const RESPONDER = fileURLToPath(new URL("./responder.ts", import.meta.url));
export const PROBE_PORT = 5400;
export const PROBE_INTERVAL_MS = 20;

/** The prober in vm-c, its lines parsed as they come. */
export class ProbeStream {
  readonly probes = new Map<number, Probe>();
  /** Sequence numbers restart with each prober; `base` keeps them unique across restarts. */
  #base = 0;
  #maxSeq = -1;
  #child: ChildProcess | null = null;
  #rest = "";

  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  running(): boolean {
    return this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Starts the prober in `namespace` (again, if it died with its namespace). */
  async start(namespace: string, vip: string): Promise<void> {
    this.#base = this.#maxSeq + 1;
    this.#rest = "";
    const child = spawn(
      "ip",
      ["netns", "exec", namespace, process.execPath, PROBER, vip, String(PROBE_PORT), String(PROBE_INTERVAL_MS)],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.#child = child;
    let started = false;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (this.#rest + chunk).split("\n");
      this.#rest = lines.pop() ?? "";
      for (const line of lines) {
        if (line === "probing") started = true;
        else this.#line(line);
      }
    });
    child.stderr.resume();
    for (let i = 0; !started; i++) {
      if (!this.running() || i > 300) throw new Error(`the prober did not start in ${namespace}`);
      await sleep(50);
    }
  }

  #line(line: string): void {
    const f = line.split(" ");
    const seq = this.#base + Number(f[1]);
    const at = Number(f[2]);
    if (f[0] === "S") {
      this.probes.set(seq, { seq, sentAt: at });
      this.#maxSeq = Math.max(this.#maxSeq, seq);
    } else if (f[0] === "A" && f[3] !== undefined) {
      const p = this.probes.get(seq);
      if (p !== undefined && p.answer === undefined) p.answer = { at, by: f[3], hadAddress: f[4] === "1" };
    }
  }

  /** Probes sent since `from` (ms on the wall clock). */
  since(from: number): Probe[] {
    const out: Probe[] = [];
    for (const p of this.probes.values()) if (p.sentAt >= from) out.push(p);
    return out;
  }

  /** Forgets probes sent before `before`, so that a long run does not grow without bound. */
  forget(before: number): void {
    for (const [seq, p] of this.probes) if (p.sentAt < before) this.probes.delete(seq);
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child === null || !this.running()) return;
    const exited = new Promise<void>((resolve) =>
      child.once("exit", () => {
        resolve();
      }),
    );
    child.kill("SIGKILL");
    await exited;
  }
}

export interface CheckerSources {
  probes: ProbeStream;
  /** Which members have the address now (lab names). */
  addressHolders(): Promise<string[]>;
  /** The API's holder now (lab name), null for none, undefined when the API did not answer. */
  apiHolder(): Promise<string | null | undefined>;
}

export interface ObserveOptions {
  /** How long everything must be right before the observation stops (default 2 s). */
  stableMs?: number;
  /** The longest observation (default 10 s), from the fault's end or, if it was marked earlier, from now. */
  maxMs?: number;
  /** The shortest observation after the fault's end (default stableMs). */
  minMs?: number;
}

/** One fault's window: started, ended, then observed until settled or out of time. */
export class FaultWindow {
  readonly startedAt = Date.now();
  endedAt: number | null = null;
  readonly #sources: CheckerSources;
  readonly #addresses: AddressSample[] = [];
  readonly #api: ApiSample[] = [];
  #sampling = true;
  readonly #samplers: Promise<void>[];

  constructor(sources: CheckerSources) {
    this.#sources = sources;
    this.#samplers = [this.#sampleAddresses(), this.#sampleApi()];
  }

  /** Marks the fault's end: from now the platform must put things right by itself. */
  faultEnded(): void {
    this.endedAt ??= Date.now();
  }

  async #sampleAddresses(): Promise<void> {
    while (this.#sampling) {
      const at = Date.now();
      const holders = await this.#sources.addressHolders().catch(() => undefined);
      if (holders !== undefined) this.#addresses.push({ at, holders });
      await sleep(150);
    }
  }

  async #sampleApi(): Promise<void> {
    while (this.#sampling) {
      const at = Date.now();
      const holder = await this.#sources.apiHolder().catch(() => undefined);
      this.#api.push({ at, holder });
      await sleep(100);
    }
  }

  timeline(): { probes: Probe[]; addresses: AddressSample[]; api: ApiSample[] } {
    return { probes: this.#sources.probes.since(this.startedAt - 1000), addresses: this.#addresses, api: this.#api };
  }

  /** Observes after the fault's end until settled (or `maxMs`), then measures the window. */
  async observe(options: ObserveOptions = {}): Promise<Measurement & { observedMs: number }> {
    this.faultEnded();
    const endedAt = this.endedAt ?? Date.now();
    // A fault that marked its end early and went on checking things is observed from now on all the same.
    const from = Date.now();
    const stableMs = options.stableMs ?? 2000;
    const maxMs = options.maxMs ?? 10_000;
    const minMs = options.minMs ?? stableMs;
    for (;;) {
      await sleep(100);
      const now = Date.now();
      if (now - from >= maxMs) break;
      if (now - from >= minMs && settled(this.timeline(), endedAt, now, stableMs)) break;
    }
    // Answers to the last probes may still be on the way: wait for them before measuring.
    await sleep(300);
    this.#sampling = false;
    await Promise.all(this.#samplers);
    const until = Date.now();
    return { ...measure(this.timeline(), this.startedAt, endedAt, until), observedMs: until - endedAt };
  }

  /** Stops sampling without measuring (a fault that failed to run). */
  async abandon(): Promise<void> {
    this.#sampling = false;
    await Promise.all(this.#samplers);
  }
}
