// Fabric socket-path load harness (root): the real data path of the lab, kernel VXLAN → UDP → the fabric
// agent (Node) → UDP → kernel VXLAN, loaded with iperf3 between two instances of one subnet.
//
//   node bench/fabric/socket.ts [--tcp-seconds 10] [--udp-seconds 5] [--mtu 1500] [--only tcp|udp]
//                               [--cpu-prof DIR] [--json FILE] [--agent-flag=--some-node-flag]...
//                               [--env NAME=VALUE]... [--io auto|dgram|batch]
//
// It makes a lab with its own prefix, starts the fabric agent in the lab's fabric namespace (with
// `--cpu-prof --cpu-prof-dir=DIR` when asked, so the profile shows where the agent's time goes), drives it
// over its Unix socket with a hand-made spec (one VPC, one subnet, two vNICs), attaches instances a and b, and
// runs iperf3 from a to b: TCP for --tcp-seconds, then UDP with 64-byte IP packets (20 + 8 + 36 bytes of
// payload; a 78-byte frame, a 114-byte VXLAN datagram on the underlay) at an unlimited rate for --udp-seconds.
// It prints sender and receiver packets/s, loss and Gbit/s, the agent's CPU use (also per datagram), how busy
// the machine was, the agent's VXLAN counters and the UDP drop counters that grew, by namespace. The lab is
// taken down on exit, also on failure or Ctrl-C. `--io` picks the agent's VXLAN I/O (batched recvmmsg/sendmmsg
// or Node's dgram; the agent's default is auto) for A/B runs; the report names the I/O the agent used.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createLab, labDown, type Lab } from "@havip/lab";
import type { NetworkSpec } from "@havip/fabric";

const AGENT = fileURLToPath(new URL("../../packages/daemon/src/agent/main.ts", import.meta.url));
/** IPv4 header 20 + UDP header 8 + 36 bytes of payload = a 64-byte IP packet. */
const UDP_PAYLOAD_FOR_64 = 64 - 20 - 8;

const { values } = parseArgs({
  options: {
    "tcp-seconds": { type: "string", default: "10" },
    "udp-seconds": { type: "string", default: "5" },
    mtu: { type: "string", default: "1500" },
    only: { type: "string" },
    "cpu-prof": { type: "string" },
    json: { type: "string" },
    "agent-flag": { type: "string", multiple: true, default: [] },
    label: { type: "string", default: "" },
    env: { type: "string", multiple: true, default: [] },
    io: { type: "string", default: "auto" },
  },
  strict: true,
});
const tcpSeconds = Number(values["tcp-seconds"]);
const udpSeconds = Number(values["udp-seconds"]);
const mtu = Number(values.mtu);

const A = { lab: "a", id: "eni-a", mac: "02:00:00:00:01:0b", ip: "10.0.1.11", vni: 9101 };
const B = { lab: "b", id: "eni-b", mac: "02:00:00:00:01:0c", ip: "10.0.1.12", vni: 9102 };
const SPEC: NetworkSpec = {
  routerMac: "02:00:00:00:00:01",
  internet: null,
  vpcs: [{ id: "vpc-a", cidr: "10.0.0.0/16", mtu }],
  subnets: [{ id: "subnet-a", vpcId: "vpc-a", cidr: "10.0.1.0/24", gatewayIp: "10.0.1.1", broadcast: "auto" }],
  vnics: [A, B].map((v) => ({ id: v.id, subnetId: "subnet-a", mac: v.mac, ip: v.ip, port: v.id })),
  havips: [],
  eips: [],
};

/** A minimal client of the agent protocol (newline-delimited JSON, answers in order). */
class AgentClient {
  private readonly socket: Socket;
  private buffered = "";
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: { ok: boolean; result?: unknown; error?: unknown }) => void>();

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.buffered += chunk;
      let nl = this.buffered.indexOf("\n");
      while (nl >= 0) {
        const message = JSON.parse(this.buffered.slice(0, nl)) as { id?: number; ok: boolean };
        this.buffered = this.buffered.slice(nl + 1);
        if (message.id !== undefined) this.waiting.get(message.id)?.(message);
        nl = this.buffered.indexOf("\n");
      }
    });
  }

  static async connect(path: string): Promise<AgentClient> {
    const socket = connect(path);
    await new Promise<void>((res, rej) => {
      socket.once("connect", res);
      socket.once("error", rej);
    });
    return new AgentClient(socket);
  }

  call(op: string, body: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((res, rej) => {
      this.waiting.set(id, (reply) => {
        this.waiting.delete(id);
        if (reply.ok) res(reply.result);
        else rej(new Error(`agent ${op}: ${JSON.stringify(reply.error)}`));
      });
      this.socket.write(`${JSON.stringify({ id, op, ...body })}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The UDP counters of a namespace's /proc/net/snmp (drops show where the path loses datagrams). */
async function udpSnmp(lab: Lab, name: string): Promise<Record<string, number>> {
  const text = (await lab.exec(name, "cat", ["/proc/net/snmp"])).stdout;
  const [keys, vals] = text.split("\n").filter((l) => l.startsWith("Udp:"));
  const k = (keys ?? "").split(/\s+/).slice(1);
  const v = (vals ?? "").split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(k.map((key, i) => [key, v[i] ?? 0]));
}

/** Where datagrams were lost during a test: UDP receive/send buffer errors by namespace (non-zero only). */
async function udpDrops(lab: Lab): Promise<Record<string, number>> {
  const drops: Record<string, number> = {};
  for (const ns of ["fabric", "underlay", B.lab]) {
    const c = await udpSnmp(lab, ns);
    for (const key of ["RcvbufErrors", "SndbufErrors", "InErrors"]) drops[`${ns}.${key}`] = c[key] ?? 0;
  }
  return drops;
}

/** Busy and total jiffies of the whole machine (all cores), from /proc/stat. */
function machineJiffies(): { busy: number; total: number } {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  return { busy: total - (cpu[3] ?? 0) - (cpu[4] ?? 0), total };
}

/** User and system (kernel) CPU seconds of a process, from /proc. */
function cpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 }; // clock ticks (USER_HZ = 100)
}

interface VxlanCounters {
  rxDatagrams: number;
  txDatagrams: number;
  sendErrors: number;
  sendDropped?: number;
  [k: string]: number | undefined;
}

interface Measurement {
  test: string;
  seconds: number;
  senderGbps: number;
  receiverGbps: number;
  senderPps?: number;
  receiverPps?: number;
  lossPercent?: number;
  retransmits?: number;
  agentCpuPercent: number;
  /** The share of the agent's CPU time spent in the kernel (system time), in percent. */
  agentKernelPercent: number;
  /** How busy the whole machine was (all cores), in percent: 100 means no idle CPU left. */
  machineBusyPercent: number;
  agentRx: number;
  agentTx: number;
  agentSendErrors: number;
  /** Datagrams the agent dropped because its socket's send buffer was full (batch I/O). */
  agentSendDropped: number;
  /** Agent CPU time per datagram received, in microseconds: the efficiency of the socket path. */
  agentUsPerDatagram: number;
  /** Increase of UDP drop counters per namespace during the test (only those that grew). */
  udpDrops: Record<string, number>;
}

interface IperfEnd {
  end: {
    sum_sent?: { bytes: number; bits_per_second: number; seconds: number; retransmits?: number };
    sum_received?: { bytes: number; bits_per_second: number; seconds: number };
    sum?: { bytes: number; bits_per_second: number; seconds: number; packets: number; lost_packets: number };
  };
  error?: string;
}

async function measure(
  lab: Lab,
  agent: AgentClient,
  agentPid: number,
  test: string,
  args: string[],
  seconds: number,
): Promise<Measurement> {
  const before = ((await agent.call("counters")) as { vxlan: VxlanCounters }).vxlan;
  const drops0 = await udpDrops(lab);
  const cpu0 = cpuTimes(agentPid);
  const machine0 = machineJiffies();
  const t0 = performance.now();
  const r = await lab.execResult(A.lab, "iperf3", ["-c", B.ip, "-t", String(seconds), "-J", ...args], {
    timeoutMs: (seconds + 30) * 1000,
  });
  const wall = (performance.now() - t0) / 1000;
  const cpu1 = cpuTimes(agentPid);
  const cpu = cpu1.user + cpu1.system - cpu0.user - cpu0.system;
  const machine1 = machineJiffies();
  const drops1 = await udpDrops(lab);
  const grown = Object.entries(drops1)
    .map(([k, v]) => [k, v - (drops0[k] ?? 0)] as const)
    .filter(([, v]) => v > 0);
  const after = ((await agent.call("counters")) as { vxlan: VxlanCounters }).vxlan;
  const out = JSON.parse(r.stdout) as IperfEnd;
  if (out.error !== undefined) throw new Error(`iperf3 ${test}: ${out.error}`);
  const common = {
    test,
    seconds,
    agentCpuPercent: (100 * cpu) / wall,
    agentKernelPercent: (100 * (cpu1.system - cpu0.system)) / Math.max(0.01, cpu),
    machineBusyPercent: (100 * (machine1.busy - machine0.busy)) / Math.max(1, machine1.total - machine0.total),
    agentRx: after.rxDatagrams - before.rxDatagrams,
    agentTx: after.txDatagrams - before.txDatagrams,
    agentSendErrors: after.sendErrors - before.sendErrors,
    agentSendDropped: (after.sendDropped ?? 0) - (before.sendDropped ?? 0),
    agentUsPerDatagram: (1e6 * cpu) / Math.max(1, after.rxDatagrams - before.rxDatagrams),
    udpDrops: Object.fromEntries(grown),
  };
  const e = out.end;
  if (e.sum_sent !== undefined && e.sum_received !== undefined && !args.includes("-u")) {
    return {
      ...common,
      senderGbps: e.sum_sent.bits_per_second / 1e9,
      receiverGbps: e.sum_received.bits_per_second / 1e9,
      retransmits: e.sum_sent.retransmits ?? 0,
    };
  }
  const sum = e.sum!;
  const received = sum.packets - sum.lost_packets;
  return {
    ...common,
    senderGbps: sum.bits_per_second / 1e9,
    receiverGbps: (received * UDP_PAYLOAD_FOR_64 * 8) / sum.seconds / 1e9,
    senderPps: sum.packets / sum.seconds,
    receiverPps: received / sum.seconds,
    lossPercent: (100 * sum.lost_packets) / Math.max(1, sum.packets),
  };
}

function show(m: Measurement): string {
  const f = (n: number | undefined, d = 0) => (n === undefined ? "-" : n.toFixed(d));
  const traffic =
    m.senderPps === undefined
      ? `${f(m.receiverGbps, 2)} Gbit/s received (sent ${f(m.senderGbps, 2)}), retransmits ${m.retransmits}`
      : `sent ${f(m.senderPps)} pps, received ${f(m.receiverPps)} pps, loss ${f(m.lossPercent, 1)}%, ` +
        `${f(m.receiverGbps, 3)} Gbit/s of payload received`;
  const agent =
    `agent ${f(m.agentCpuPercent)}% CPU, ${f(m.agentUsPerDatagram, 1)} us/dgram, ${f(m.agentKernelPercent)}% kernel ` +
    `(machine ${f(m.machineBusyPercent)}% busy), rx ${m.agentRx} tx ${m.agentTx} send errors ${m.agentSendErrors} dropped ${m.agentSendDropped}`;
  const drops = Object.keys(m.udpDrops).length === 0 ? "" : `\n           UDP drops ${JSON.stringify(m.udpDrops)}`;
  return `${m.test.padEnd(10)} ${traffic}\n           ${agent}${drops}`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("bench/fabric/socket.ts needs root (namespaces, VXLAN)");
  const prefix = `hvpf${randomBytes(2).toString("hex").slice(0, 3)}-`;
  const stateDir = mkdtempSync(join(tmpdir(), "havip-bench-socket-"));
  let agent: AgentClient | null = null;
  const cleanup = async () => {
    agent?.close();
    try {
      await labDown({ stateDir, prefix, graceMs: 10_000 });
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  };
  const onSignal = () => {
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const lab = await createLab({ stateDir, prefix });
    const socket = join(stateDir, "fabric.sock");
    const profDir = values["cpu-prof"] === undefined ? null : resolve(values["cpu-prof"]);
    if (profDir !== null) mkdirSync(profDir, { recursive: true });
    const nodeFlags = [
      ...values["agent-flag"],
      ...(profDir === null ? [] : ["--cpu-prof", `--cpu-prof-dir=${profDir}`]),
    ];
    // NAME=VALUE pairs for the agent's environment (`ip netns exec` passes ours on): A/B switches.
    for (const pair of values.env) {
      const eq = pair.indexOf("=");
      if (eq > 0) process.env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    const { address, port } = lab.fabricEndpoint;
    const proc = lab.spawn(
      "fabric",
      process.execPath,
      [...nodeFlags, AGENT, "--socket", socket, "--vxlan", `${address}:${port}`, "--io", values.io],
      { label: "fabric-agent" },
    );
    const ready = await proc.waitForLog(/"ready":true.*"io":"(\w+)"/, 20_000);
    const io = ready[1] ?? "unknown";
    console.log(`agent VXLAN I/O: ${io}`);
    agent = await AgentClient.connect(socket);
    await agent.call("apply-spec", { spec: SPEC });
    for (const v of [A, B]) {
      const attached = await lab.attachInstance({
        name: v.lab,
        vni: v.vni,
        mac: v.mac,
        ip: v.ip,
        prefixLen: 24,
        gateway: "10.0.1.1",
        mtu,
      });
      const e = attached.endpoint;
      await agent.call("attach", {
        portId: v.id,
        attachment: { remoteAddress: e.address, remotePort: e.port, vni: e.vni },
      });
    }
    const server = lab.spawn(B.lab, "iperf3", ["-s", "-B", B.ip, "--forceflush"], { label: "iperf3-server" });
    await server.waitForLog(/Server listening/, 10_000);
    // The first packets resolve ARP through the fabric; a ping makes sure the path is up before timing.
    await lab.exec(A.lab, "ping", ["-c", "3", "-i", "0.2", "-W", "1", B.ip]);

    const results: Measurement[] = [];
    const run = async (test: string, args: string[], seconds: number) => {
      const m = await measure(lab, agent!, proc.pid!, test, args, seconds);
      console.log(show(m));
      results.push(m);
      await sleep(500); // let the server settle between tests
    };
    if (values.only !== "udp") await run(`tcp-${mtu}`, [], tcpSeconds);
    if (values.only !== "tcp") await run("udp-64", ["-u", "-l", String(UDP_PAYLOAD_FOR_64), "-b", "0"], udpSeconds);
    const counters = await agent.call("counters");
    await server.stop();
    await proc.stop(15_000); // SIGTERM: the agent exits cleanly, so --cpu-prof writes its profile
    if (profDir !== null) console.log(`agent CPU profile written to ${profDir}`);
    const report = {
      label: values.label,
      when: new Date().toISOString(),
      loadavg: loadavg(),
      mtu,
      io,
      results,
      counters,
    };
    if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await cleanup();
  }
}

await main();
