// One iperf3 measurement between two hosts of a topology: a one-shot server in the receiver's namespace, the
// client in the sender's, JSON out (`-J`). TCP: bits/s the receiver got. UDP with 64-byte IP packets (20 IP +
// 8 UDP + 36 payload) at full speed (`-b 0`): packets/s delivered (received minus lost, per the receiver's
// count), packets/s sent, and the loss.
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

export async function udp64Rate(from: BenchHost, to: BenchHost, seconds: number): Promise<UdpResult> {
  return udpFromReport(await iperf(from, to, ["-u", "-l", String(UDP_PAYLOAD), "-b", "0"], seconds));
}
