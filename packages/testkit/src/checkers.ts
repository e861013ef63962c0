// Frame checkers for tests, in the spirit of gVisor's checker package: validate structure and every checksum
// first (IPv4 header, TCP, UDP, ICMP, VRRP), then hand back a summary whose fields a test asserts on.
import {
  ETHERTYPE,
  ETH_HEADER_LEN,
  IPPROTO,
  checkIpv4,
  formatIpv4,
  formatMac,
  ipv4HeaderLen,
  isFragment,
  isIcmpError,
  isWireError,
  onesComplementSum,
  parseArp,
  parseEthernet,
  parseTcp,
  parseUdp,
  parseVrrp,
  readIpv4,
  verifyTcpChecksum,
  verifyUdpChecksum,
  type ArpRepr,
  type TcpRepr,
  type VrrpRepr,
} from "@havip/wire";

export interface Ipv4Summary {
  src: number;
  dst: number;
  protocol: number;
  ttl: number;
  tos: number;
  id: number;
  headerLen: number;
  totalLen: number;
  fragment: boolean;
}

export interface IcmpSummary {
  type: number;
  code: number;
  /** Echo: identifier and sequence. */
  id?: number;
  seq?: number;
  /** Errors: the embedded packet's addresses and protocol. */
  embedded?: { src: number; dst: number; protocol: number };
}

export interface FrameSummary {
  dst: number;
  src: number;
  ethertype: number;
  len: number;
  arp?: ArpRepr;
  ip?: Ipv4Summary;
  udp?: { srcPort: number; dstPort: number; payloadLen: number; checksum: number };
  tcp?: TcpRepr;
  icmp?: IcmpSummary;
  vrrp?: VrrpRepr;
}

export class FrameCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FrameCheckError";
  }
}

type Checked = FrameSummary | string;

function check(frame: Uint8Array, len: number): Checked {
  const eth = parseEthernet(frame, len);
  if (isWireError(eth)) return `ethernet: ${eth.wireError}`;
  if (eth.vlanId !== undefined) return "ethernet: unexpected 802.1Q tag";
  const summary: FrameSummary = { dst: eth.dst, src: eth.src, ethertype: eth.ethertype, len };
  if (eth.ethertype === ETHERTYPE.ARP) {
    const arp = parseArp(frame, ETH_HEADER_LEN, len - ETH_HEADER_LEN);
    if (isWireError(arp)) return `arp: ${arp.wireError}`;
    summary.arp = arp;
    return summary;
  }
  if (eth.ethertype !== ETHERTYPE.IPV4) return summary;
  const o = ETH_HEADER_LEN;
  const err = checkIpv4(frame, o, len - o);
  if (err !== undefined) return `ipv4: ${err.wireError}`;
  const headerLen = ipv4HeaderLen(frame, o);
  const totalLen = (frame[o + 2]! << 8) | frame[o + 3]!;
  const ip: Ipv4Summary = {
    src: readIpv4(frame, o + 12),
    dst: readIpv4(frame, o + 16),
    protocol: frame[o + 9]!,
    ttl: frame[o + 8]!,
    tos: frame[o + 1]!,
    id: (frame[o + 4]! << 8) | frame[o + 5]!,
    headerLen,
    totalLen,
    fragment: isFragment(frame, o),
  };
  summary.ip = ip;
  if (ip.fragment) return summary; // a fragment's transport checksum cannot be verified alone
  const l4 = o + headerLen;
  const l4Len = totalLen - headerLen;
  switch (ip.protocol) {
    case IPPROTO.UDP: {
      const udp = parseUdp(frame, l4, l4Len);
      if (isWireError(udp)) return `udp: ${udp.wireError}`;
      if (udp.payloadLen + 8 !== l4Len) return "udp: length field differs from the IPv4 payload length";
      if (!verifyUdpChecksum(frame, l4, l4Len, ip.src, ip.dst)) return "udp: bad checksum";
      summary.udp = { ...udp, checksum: (frame[l4 + 6]! << 8) | frame[l4 + 7]! };
      break;
    }
    case IPPROTO.TCP: {
      const tcp = parseTcp(frame, l4, l4Len);
      if (isWireError(tcp)) return `tcp: ${tcp.wireError}`;
      if (!verifyTcpChecksum(frame, l4, l4Len, ip.src, ip.dst)) return "tcp: bad checksum";
      summary.tcp = tcp;
      break;
    }
    case IPPROTO.ICMP: {
      if (l4Len < 8) return "icmp: truncated";
      if (onesComplementSum(frame, l4, l4 + l4Len) !== 0xffff) return "icmp: bad checksum";
      const type = frame[l4]!;
      const icmp: IcmpSummary = { type, code: frame[l4 + 1]! };
      if (type === 0 || type === 8) {
        icmp.id = (frame[l4 + 4]! << 8) | frame[l4 + 5]!;
        icmp.seq = (frame[l4 + 6]! << 8) | frame[l4 + 7]!;
      } else if (isIcmpError(type) && l4Len >= 28) {
        const e = l4 + 8;
        if (onesComplementSum(frame, e, e + (frame[e]! & 0x0f) * 4) !== 0xffff) {
          return "icmp: embedded IPv4 header has a bad checksum";
        }
        icmp.embedded = { src: readIpv4(frame, e + 12), dst: readIpv4(frame, e + 16), protocol: frame[e + 9]! };
      }
      summary.icmp = icmp;
      break;
    }
    case IPPROTO.VRRP: {
      const vrrp = parseVrrp(frame, l4, l4Len, ip.src, ip.dst);
      if (isWireError(vrrp)) return `vrrp: ${vrrp.wireError}`;
      summary.vrrp = vrrp;
      break;
    }
  }
  return summary;
}

/** The first problem with the frame's structure or checksums, or null when it is valid. Never throws. */
export function frameProblem(frame: Uint8Array, len = frame.length): string | null {
  const r = check(frame, len);
  return typeof r === "string" ? r : null;
}

/** Validates the frame (structure and every checksum) and returns its summary; throws FrameCheckError. */
export function checkFrame(frame: Uint8Array, len = frame.length): FrameSummary {
  const r = check(frame, len);
  if (typeof r === "string") throw new FrameCheckError(`${r} in ${describeFrame(frame, len)}`);
  return r;
}

/** A one-line description for failure messages. */
export function describeFrame(frame: Uint8Array, len = frame.length): string {
  if (len < ETH_HEADER_LEN) return `runt frame (${len} bytes)`;
  const eth = parseEthernet(frame, len);
  if (isWireError(eth)) return `frame (${eth.wireError})`;
  const head = `${formatMac(eth.src)} > ${formatMac(eth.dst)}`;
  if (eth.ethertype === ETHERTYPE.ARP) {
    const a = parseArp(frame, ETH_HEADER_LEN, len - ETH_HEADER_LEN);
    if (isWireError(a)) return `${head} ARP (${a.wireError})`;
    const what =
      a.op === 1
        ? `who-has ${formatIpv4(a.targetIp)} tell ${formatIpv4(a.senderIp)}`
        : `${formatIpv4(a.senderIp)} is-at ${formatMac(a.senderMac)}`;
    return `${head} ARP ${what}`;
  }
  if (eth.ethertype === ETHERTYPE.IPV4 && len >= ETH_HEADER_LEN + 20) {
    const o = ETH_HEADER_LEN;
    return `${head} IPv4 ${formatIpv4(readIpv4(frame, o + 12))} > ${formatIpv4(readIpv4(frame, o + 16))} proto ${frame[o + 9]} ttl ${frame[o + 8]} len ${len}`;
  }
  return `${head} ethertype 0x${eth.ethertype.toString(16)} len ${len}`;
}
