// One iperf3 measurement between two hosts of a topology: a one-shot server in the receiver's namespace, the
// client in the sender's, JSON out (`-J`). TCP: bits/s the receiver got. UDP with 64-byte IP packets (20 IP +
// 8 UDP + 36 payload) at full speed (`-b 0`): packets/s delivered (received minus lost, per the receiver's
// count), packets/s sent, and the loss; and, from the receiver's kernel counters, packets/s that arrived at the
// receiving host (read by iperf3 or dropped because its socket buffer was full): what the network delivered.
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import type { BenchHost } from "../lib/topology.ts";
import { execIn, sh } from "../topologies/shared.ts";

const PORT = 5201;
/** 64-byte IPv4 packets: 20 (IP) + 8 (UDP) + this payload. */
export const UDP_PAYLOAD = 36;

export interface TcpResult {
  gbps: number;
  retransmits: number;
}

export interface UdpResult {
  deliveredKpps: number;
  sentKpps: number;
  lossPct: number;
  delivered: number;
}

/** A UDP run with what the receiving host's kernel counted. */
export interface UdpHostResult extends UdpResult {
  /** Datagrams/s that reached the receiving host's UDP layer: read by iperf3 or dropped at its full socket. */
  arrivedKpps: number;
  /** Datagrams the receiving host dropped because iperf3's socket buffer was full. */
  receiverDropped: number;
}

/** The `Udp:` counters of /proc/net/snmp (a namespace's own), by name. */
export function udpCounters(snmp: string): Record<string, number> {
  const lines = snmp.split("\n").filter((l) => l.startsWith("Udp:"));
  if (lines.length < 2) throw new Error("/proc/net/snmp: no Udp counters");
  const names = lines[0]!.trim().split(/\s+/).slice(1);
  const values = lines[1]!.trim().split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i] ?? NaN]));
}

/**
 * What arrived at the receiving host between two counter readings: datagrams read by an application
 * (InDatagrams counts at read time) plus those dropped for want of socket-buffer room.
 */
export function arrivedBetween(before: Record<string, number>, after: Record<string, number>) {
  const delta = (k: string) => (after[k] ?? NaN) - (before[k] ?? NaN);
  const dropped = delta("RcvbufErrors");
  return { arrived: delta("InDatagrams") + dropped, dropped };
}

interface IperfSum {
  seconds?: number;
  bits_per_second?: number;
  bytes?: number;
  packets?: number;
  lost_packets?: number;
  lost_percent?: number;
  retransmits?: number;
}

export interface IperfJson {
  error?: string;
  end?: { sum_sent?: IperfSum; sum_received?: IperfSum };
}

/** Runs the server once and the client against it; returns the client's JSON report. */
async function iperf(from: BenchHost, to: BenchHost, args: readonly string[], seconds: number): Promise<IperfJson> {
  const server = spawn("ip", ["netns", "exec", to.namespace, "iperf3", "-s", "-1", "-p", String(PORT)], {
    stdio: "ignore",
  });
  const serverExited = new Promise<void>((resolve) =>
    server.once("exit", () => {
      resolve();
    }),
  );
  try {
    // Wait until the server listens (its control connection is TCP in both modes).
    for (let i = 0; ; i++) {
      const out = await execIn(to.namespace, "ss", ["-Hltn", `sport = :${String(PORT)}`]).catch(() => "");
      if (out.trim() !== "") break;
      if (i > 100 || server.exitCode !== null) throw new Error(`iperf3 server did not start in ${to.namespace}`);
      await sleep(50);
    }
    // prettier-ignore
    const clientArgs = [
      "netns", "exec", from.namespace, "iperf3", "-c", to.ip, "-p", String(PORT), "-J", "-t", String(seconds),
      "--connect-timeout", "5000", ...args,
    ];
    // iperf3 exits non-zero on an error but still prints its JSON (with `error`) on stdout.
    const out = await sh("ip", clientArgs, { timeoutMs: (seconds + 30) * 1000 }).catch((e: unknown) => {
      const stdout = ((e as { cause?: { stdout?: string } }).cause?.stdout ?? "").trim();
      if (stdout.startsWith("{")) return stdout;
      throw e;
    });
    const json = JSON.parse(out) as IperfJson;
    if (json.error !== undefined) throw new Error(`iperf3 ${from.name} → ${to.name}: ${json.error}`);
    return json;
  } finally {
    if (server.exitCode === null && server.signalCode === null) {
      const done = await Promise.race([serverExited.then(() => true), sleep(2000).then(() => false)]);
      if (!done) server.kill("SIGKILL");
    }
    await serverExited;
  }
}

/** What the receiver got in a TCP run of iperf3 -J. */
export function tcpFromReport(json: IperfJson): TcpResult {
  const received = json.end?.sum_received;
  if (received?.bits_per_second === undefined) throw new Error("iperf3 TCP: no receiver summary");
  return { gbps: received.bits_per_second / 1e9, retransmits: json.end?.sum_sent?.retransmits ?? 0 };
}

/** Delivered and sent packet rates of a UDP run of iperf3 -J (the receiver's count, exchanged at the end). */
export function udpFromReport(json: IperfJson): UdpResult {
  const sent = json.end?.sum_sent;
  const received = json.end?.sum_received;
  if (sent?.packets === undefined || received?.packets === undefined || received.seconds === undefined) {
    throw new Error("iperf3 UDP: no sender/receiver packet counts");
  }
  const delivered = received.packets - (received.lost_packets ?? 0);
  return {
    deliveredKpps: delivered / received.seconds / 1e3,
    sentKpps: sent.packets / (sent.seconds ?? received.seconds) / 1e3,
    lossPct: received.lost_percent ?? 0,
    delivered,
  };
}

export async function tcpThroughput(from: BenchHost, to: BenchHost, seconds: number): Promise<TcpResult> {
  return tcpFromReport(await iperf(from, to, [], seconds));
}

export async function udp64Rate(from: BenchHost, to: BenchHost, seconds: number): Promise<UdpHostResult> {
  const counters = async () => udpCounters(await execIn(to.namespace, "cat", ["/proc/net/snmp"]));
  const before = await counters();
  const result = udpFromReport(await iperf(from, to, ["-u", "-l", String(UDP_PAYLOAD), "-b", "0"], seconds));
  const { arrived, dropped } = arrivedBetween(before, await counters());
  const elapsed = result.delivered / (result.deliveredKpps * 1e3); // the receiver's measured duration
  return {
    ...result,
    arrivedKpps: Number.isFinite(elapsed) && elapsed > 0 ? arrived / elapsed / 1e3 : NaN,
    receiverDropped: dropped,
  };
}
