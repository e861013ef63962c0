// The fabric agent protocol: how havipd drives a fabric that runs in another process (the lab's fabric
// namespace now, another host's agent later). Newline-delimited JSON over a stream socket (a Unix socket
// here): one object per line, UTF-8.
//
// havipd → agent: requests `{id, op, …}`; the agent answers each with `{id, ok: true, result}` or
// `{id, ok: false, error: {message, problems?}}`, in the order received — except `capture`, answered when the
// capture ends (other requests are answered meanwhile; replies are matched by id).
// The ops: `hello` (the protocol version; the answer names the VXLAN port set and whether veth attachments work),
// `apply-spec`, `apply-changes`, `attach` (a VXLAN attachment, `kind` absent or "vxlan", or a veth attachment
// `{kind: "veth", interface}`: an interface in the agent's namespace, read and written as raw Ethernet frames),
// `detach`, `counters`, `capture` and `cancel-capture` (`captureId`: a running capture then answers at once with what
// it recorded; a client's captures also end with its connection), `ping` (answered at once with `{}`: the
// heartbeat), `holders` (every HAVIP's holder, generation and contest as the agent knows them: what havipd reconciles
// with its store when it (re)connects) and `verify` (`havipIds`, null for all: ask who has each address now; with
// `wait`, answered when the rounds end, with their outcomes).
// agent → havipd: also events `{event: "observation", observation}` whenever the fabric reports one.
import type {
  CaptureTarget,
  FabricCounters,
  HolderState,
  NetworkSpec,
  Observation,
  PacketPortCounters,
  SpecChange,
  VerificationOutcome,
  VxlanCounters,
} from "@havip/fabric";

/** The result of `holders`. */
export type AgentHolders = HolderState[];
/** The result of `verify` with `wait`. */
export type AgentVerification = VerificationOutcome[];

export const AGENT_PROTOCOL_VERSION = 5;

/** A vNIC reached through a tunnel: frames for it go to (remoteAddress, remotePort) with its VNI. */
export interface VxlanAttachment {
  kind?: "vxlan";
  remoteAddress: string;
  remotePort: number;
  vni: number;
}

/** A local vNIC: the fabric's end of its veth pair, an interface in the fabric's namespace. */
export interface VethAttachment {
  kind: "veth";
  interface: string;
}

export type AgentAttachment = VxlanAttachment | VethAttachment;

export function isVeth(a: AgentAttachment): a is VethAttachment {
  return a.kind === "veth";
}

export type AgentRequest =
  | { id: number; op: "hello"; version: number }
  | { id: number; op: "apply-spec"; spec: NetworkSpec }
  | { id: number; op: "apply-changes"; changes: SpecChange[] }
  | { id: number; op: "attach"; portId: string; attachment: AgentAttachment }
  | { id: number; op: "detach"; portId: string }
  | { id: number; op: "counters" }
  | { id: number; op: "capture"; target: CaptureTarget; count: number; timeoutMs: number }
  | { id: number; op: "cancel-capture"; captureId: number }
  | { id: number; op: "ping" }
  | { id: number; op: "holders" }
  | { id: number; op: "verify"; havipIds: string[] | null; wait: boolean };

/** The result of `capture`: the pcap file in base64 (JSON carries no bytes). */
export interface AgentCapture {
  pcapBase64: string;
  frames: number;
  truncated: boolean;
}

export interface AgentHello {
  version: number;
  vxlan: { address: string; port: number } | null;
  /** The agent can attach veth interfaces (its native addon opens packet sockets). */
  veth: boolean;
}

export interface AgentCounters {
  fabric: FabricCounters;
  vxlan: VxlanCounters | null;
  /** The sum over veth attachments; null when there are none. */
  packet: PacketPortCounters | null;
}

export type AgentReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { message: string; problems?: string[] } };

export interface AgentEvent {
  event: "observation";
  observation: Observation;
}

export type AgentMessage = AgentReply | AgentEvent;

/** Splits a byte stream into JSON lines; a line that is not JSON is reported, not thrown. */
export class LineReader {
  private buffered = "";
  private readonly onLine: (value: unknown) => void;
  private readonly onBadLine: (line: string) => void;

  constructor(onLine: (value: unknown) => void, onBadLine: (line: string) => void) {
    this.onLine = onLine;
    this.onBadLine = onBadLine;
  }

  push(chunk: string): void {
    this.buffered += chunk;
    let nl = this.buffered.indexOf("\n");
    while (nl >= 0) {
      const line = this.buffered.slice(0, nl).trim();
      this.buffered = this.buffered.slice(nl + 1);
      if (line !== "") {
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          this.onBadLine(line);
          value = undefined;
        }
        if (value !== undefined) this.onLine(value);
      }
      nl = this.buffered.indexOf("\n");
    }
  }
}

export function encode(message: AgentRequest | AgentMessage): string {
  return `${JSON.stringify(message)}\n`;
}
