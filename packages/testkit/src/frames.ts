// Frame builders for tests: Ethernet frames as instances send them, built with @havip/wire's emit functions,
// with valid checksums unless asked otherwise. Addresses may be given as numbers or as strings
// ("02:00:00:00:00:0a", "10.0.1.11").
import {
  ARP_OP,
  BROADCAST_MAC,
  ETHERTYPE,
  ETH_HEADER_LEN,
  ICMP_TYPE,
  IPPROTO,
  TCP_FLAGS,
  TCP_MIN_HEADER_LEN,
  UDP_HEADER_LEN,
  VRRP_MULTICAST,
  VRRP_TTL,
  emitArp,
  emitEthernet,
  emitIcmpEcho,
  emitIcmpError,
  emitIpv4,
  emitTcp,
  emitUdp,
  emitVrrp,
  parseIpv4,
  parseMac,
  vrrpLength,
} from "@havip/wire";

export type MacLike = number | string;
export type IpLike = number | string;

export function mac(m: MacLike): number {
  if (typeof m === "number") return m;
  const v = parseMac(m);
  if (v === undefined) throw new Error(`not a MAC: ${m}`);
  return v;
}

export function ip(a: IpLike): number {
  if (typeof a === "number") return a >>> 0;
  const v = parseIpv4(a);
  if (v === undefined) throw new Error(`not an IPv4 address: ${a}`);
  return v;
}

/** The Ethernet address of an IPv4 multicast group (01:00:5e + low 23 bits). */
export function multicastMac(group: IpLike): number {
  return 0x01005e000000 + (ip(group) & 0x7fffff);
}

// ── ARP ─────────────────────────────────────────────────────────────────────────────────────────────────────

export interface ArpFrameOptions {
  op: "request" | "reply";
  /** Ethernet destination; broadcast by default. */
  dst?: MacLike;
  /** Ethernet source. */
  src: MacLike;
  /** ARP sender hardware address; the Ethernet source by default. */
  senderMac?: MacLike;
  senderIp: IpLike;
  /** ARP target hardware address; zero by default. */
  targetMac?: MacLike;
  targetIp: IpLike;
}

export function arpFrame(o: ArpFrameOptions): Uint8Array {
  const buf = new Uint8Array(ETH_HEADER_LEN + 28);
  emitEthernet({ dst: mac(o.dst ?? BROADCAST_MAC), src: mac(o.src), ethertype: ETHERTYPE.ARP }, buf, 0);
  emitArp(
    {
      op: o.op === "request" ? ARP_OP.REQUEST : ARP_OP.REPLY,
      senderMac: mac(o.senderMac ?? o.src),
      senderIp: ip(o.senderIp),
      targetMac: mac(o.targetMac ?? 0),
      targetIp: ip(o.targetIp),
    },
    buf,
    ETH_HEADER_LEN,
  );
  return buf;
}

/** "Who has targetIp? Tell senderIp", broadcast (or unicast to `dst`, as Linux does to re-confirm a cache entry). */
export function arpRequest(o: { mac: MacLike; ip: IpLike; targetIp: IpLike; dst?: MacLike }): Uint8Array {
  return arpFrame({ op: "request", src: o.mac, senderIp: o.ip, targetIp: o.targetIp, dst: o.dst ?? BROADCAST_MAC });
}

/** An ARP probe (RFC 5227): sender IP 0.0.0.0. */
export function arpProbe(o: { mac: MacLike; targetIp: IpLike }): Uint8Array {
  return arpFrame({ op: "request", src: o.mac, senderIp: 0, targetIp: o.targetIp });
}

export function arpReply(o: {
  mac: MacLike;
  ip: IpLike;
  targetMac: MacLike;
  targetIp: IpLike;
  dst?: MacLike;
}): Uint8Array {
  return arpFrame({
    op: "reply",
    src: o.mac,
    senderIp: o.ip,
    targetMac: o.targetMac,
    targetIp: o.targetIp,
    dst: o.dst ?? o.targetMac,
  });
}

/**
 * A gratuitous ARP as keepalived sends it when it takes a virtual address: a broadcast ARP request with
 * sender = target = the address, target hardware address ff:ff:ff:ff:ff:ff, 42 bytes. `op: "reply"` gives the
 * `arping -A` form (a broadcast reply).
 */
export function gratuitousArp(o: { mac: MacLike; ip: IpLike; op?: "request" | "reply" }): Uint8Array {
  return arpFrame({
    op: o.op ?? "request",
    src: o.mac,
    senderIp: o.ip,
    targetMac: (o.op ?? "request") === "request" ? BROADCAST_MAC : 0,
    targetIp: o.ip,
    dst: BROADCAST_MAC,
  });
}

// ── IPv4 ────────────────────────────────────────────────────────────────────────────────────────────────────

export interface Ipv4FrameOptions {
  dstMac: MacLike;
  srcMac: MacLike;
  src: IpLike;
  dst: IpLike;
  ttl?: number;
  tos?: number;
  id?: number;
  dontFragment?: boolean;
}

/** Ethernet + a 20-byte IPv4 header; the transport is written by `body` at offset 34 and returns its length. */
function ipv4Frame(
  o: Ipv4FrameOptions,
  protocol: number,
  bodyLen: number,
  body: (buf: Uint8Array, off: number, src: number, dst: number) => void,
): Uint8Array {
  const buf = new Uint8Array(ETH_HEADER_LEN + 20 + bodyLen);
  const src = ip(o.src);
  const dst = ip(o.dst);
  emitEthernet({ dst: mac(o.dstMac), src: mac(o.srcMac), ethertype: ETHERTYPE.IPV4 }, buf, 0);
  emitIpv4(
    {
      src,
      dst,
      protocol,
      ttl: o.ttl ?? 64,
      tos: o.tos ?? 0,
      id: o.id ?? 0,
      dontFragment: o.dontFragment ?? true,
      payloadLen: bodyLen,
    },
    buf,
    ETH_HEADER_LEN,
  );
  body(buf, ETH_HEADER_LEN + 20, src, dst);
  return buf;
}

export interface UdpFrameOptions extends Ipv4FrameOptions {
  srcPort: number;
  dstPort: number;
  payload?: Uint8Array;
  /** false: checksum 0 ("none"). Default true. */
  checksum?: boolean;
}

export function udpFrame(o: UdpFrameOptions): Uint8Array {
  const payload = o.payload ?? new Uint8Array(0);
  return ipv4Frame(o, IPPROTO.UDP, UDP_HEADER_LEN + payload.length, (buf, off, src, dst) => {
    buf.set(payload, off + UDP_HEADER_LEN);
    emitUdp(
      { srcPort: o.srcPort, dstPort: o.dstPort, payloadLen: payload.length },
      buf,
      off,
      src,
      dst,
      o.checksum ?? true,
    );
  });
}

export interface TcpFrameOptions extends Ipv4FrameOptions {
  srcPort: number;
  dstPort: number;
  seq?: number;
  ack?: number;
  /** TCP_FLAGS bits; SYN by default. */
  flags?: number;
  window?: number;
  payload?: Uint8Array;
}

export function tcpFrame(o: TcpFrameOptions): Uint8Array {
  const payload = o.payload ?? new Uint8Array(0);
  return ipv4Frame(o, IPPROTO.TCP, TCP_MIN_HEADER_LEN + payload.length, (buf, off, src, dst) => {
    buf.set(payload, off + TCP_MIN_HEADER_LEN);
    emitTcp(
      {
        srcPort: o.srcPort,
        dstPort: o.dstPort,
        seq: o.seq ?? 1,
        ack: o.ack ?? 0,
        flags: o.flags ?? TCP_FLAGS.SYN,
        window: o.window ?? 64240,
        headerLen: TCP_MIN_HEADER_LEN,
      },
      buf,
      off,
      src,
      dst,
      payload.length,
    );
  });
}

export interface IcmpEchoFrameOptions extends Ipv4FrameOptions {
  type?: "request" | "reply";
  id?: number;
  seq?: number;
  payload?: Uint8Array;
}

export function icmpEchoFrame(o: IcmpEchoFrameOptions): Uint8Array {
  const payload = o.payload ?? new Uint8Array([0x68, 0x61, 0x76, 0x69, 0x70, 0x21, 0x00, 0x01]);
  return ipv4Frame(o, IPPROTO.ICMP, 8 + payload.length, (buf, off) => {
    emitIcmpEcho(
      {
        type: (o.type ?? "request") === "request" ? ICMP_TYPE.ECHO_REQUEST : ICMP_TYPE.ECHO_REPLY,
        id: o.id ?? 0x1234,
        seq: o.seq ?? 1,
        payload,
      },
      buf,
      off,
    );
  });
}

export interface IcmpErrorFrameOptions extends Ipv4FrameOptions {
  type: number;
  code: number;
  /** The offending IPv4 packet (from its IP header on), usually its header and 8 bytes of payload. */
  embedded: Uint8Array;
}

export function icmpErrorFrame(o: IcmpErrorFrameOptions): Uint8Array {
  return ipv4Frame(o, IPPROTO.ICMP, 8 + o.embedded.length, (buf, off) => {
    emitIcmpError({ type: o.type, code: o.code, restOfHeader: 0, embedded: o.embedded }, buf, off);
  });
}

/** The IPv4 packet of a frame (bytes 14…, up to the IP total length), e.g. to embed in an ICMP error. */
export function ipPacketOf(frame: Uint8Array, maxPayload = 8): Uint8Array {
  const ihl = (frame[ETH_HEADER_LEN]! & 0x0f) * 4;
  const total = (frame[ETH_HEADER_LEN + 2]! << 8) | frame[ETH_HEADER_LEN + 3]!;
  const end = ETH_HEADER_LEN + Math.min(total, ihl + maxPayload);
  return frame.slice(ETH_HEADER_LEN, end);
}

// ── VRRP ────────────────────────────────────────────────────────────────────────────────────────────────────

export interface VrrpAdvertOptions {
  srcMac: MacLike;
  src: IpLike;
  /** 224.0.0.18 by default; a peer's address for unicast VRRP. */
  dst?: IpLike;
  /** The group's multicast MAC by default; for unicast, the peer's (or the router's) MAC. */
  dstMac?: MacLike;
  version?: 2 | 3;
  vrid: number;
  priority?: number;
  /** v2: seconds (default 1); v3: centiseconds (default 100). */
  advertInterval?: number;
  addresses: IpLike[];
}

/** A VRRP advertisement as keepalived sends it: TTL 255, TOS 0xc0, to 224.0.0.18 unless unicast. */
export function vrrpAdvertFrame(o: VrrpAdvertOptions): Uint8Array {
  const version = o.version ?? 2;
  const dst = o.dst ?? VRRP_MULTICAST;
  const addresses = o.addresses.map(ip);
  const len = vrrpLength(version, addresses.length);
  return ipv4Frame(
    {
      srcMac: o.srcMac,
      dstMac: o.dstMac ?? multicastMac(dst),
      src: o.src,
      dst,
      ttl: VRRP_TTL,
      tos: 0xc0,
      dontFragment: false,
    },
    IPPROTO.VRRP,
    len,
    (buf, off, src, d) => {
      emitVrrp(
        {
          version,
          vrid: o.vrid,
          priority: o.priority ?? 100,
          advertInterval: o.advertInterval ?? (version === 2 ? 1 : 100),
          authType: version === 2 ? 0 : undefined,
          addresses,
        },
        buf,
        off,
        src,
        d,
      );
    },
  );
}
