// Byte fixtures from real captures, for the codec tests (not exported by the package).
//
// How they were made (packages/wire/fixtures/capture.sh re-creates them): two network namespaces, A and
// B, joined by a veth pair, hvw-a (02:00:00:00:0a:01, 10.200.0.1/24) in A and hvw-b (02:00:00:00:0b:01,
// 10.200.0.2/24) in B; IPv6 and TX checksum offload off on both; `tcpdump -i hvw-b -w` (4.99.3, libpcap
// 1.10.3) ran in B while each command below ran in A; the frames were read from the files with readPcap
// and written out here unchanged. Kernel 6.18, keepalived 2.2.7, arping 2.23, iputils ping.

/** Hex digits with any whitespace between them, as bytes. */
function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, "");
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * ARP request: 10.200.0.1 (02:00:00:00:0a:01) asks for 10.200.0.2, broadcast.
 * Made by: `ping -c 1 10.200.0.2` in A with an empty neighbour table.
 */
export const ARP_REQUEST = hex(`
  ffff ffff ffff 0200 0000 0a01 0806 0001
  0800 0604 0001 0200 0000 0a01 0ac8 0001
  0000 0000 0000 0ac8 0002
`);

/**
 * ARP reply: 10.200.0.2 is at 02:00:00:00:0b:01, unicast to A. Same capture.
 */
export const ARP_REPLY = hex(`
  0200 0000 0a01 0200 0000 0b01 0806 0001
  0800 0604 0002 0200 0000 0b01 0ac8 0002
  0200 0000 0a01 0ac8 0001
`);

/**
 * ICMP echo request 10.200.0.1 -> 10.200.0.2, 56 data bytes (iputils ping), DF set. Same capture.
 */
export const ICMP_ECHO_REQUEST = hex(`
  0200 0000 0b01 0200 0000 0a01 0800 4500
  0054 c179 4000 4001 639d 0ac8 0001 0ac8
  0002 0800 b60c 20be 0001 93ed 006b 0000
  0000 c308 0b00 0000 0000 1011 1213 1415
  1617 1819 1a1b 1c1d 1e1f 2021 2223 2425
  2627 2829 2a2b 2c2d 2e2f 3031 3233 3435
  3637
`);

/**
 * ICMP echo reply 10.200.0.2 -> 10.200.0.1 (the kernel's answer). Same capture.
 */
export const ICMP_ECHO_REPLY = hex(`
  0200 0000 0a01 0200 0000 0b01 0800 4500
  0054 bc30 0000 4001 a8e6 0ac8 0002 0ac8
  0001 0000 be0c 20be 0001 93ed 006b 0000
  0000 c308 0b00 0000 0000 1011 1213 1415
  1617 1819 1a1b 1c1d 1e1f 2021 2223 2425
  2627 2829 2a2b 2c2d 2e2f 3031 3233 3435
  3637
`);

/**
 * Gratuitous ARP request for 10.200.0.1, target MAC ff:ff:ff:ff:ff:ff, 16 bytes of padding
 * after the 28 ARP bytes. Made by: `arping -U -c 1 -i hvw-a -S 10.200.0.1 10.200.0.1` (Habets arping 2.23).
 */
export const GARP_REQUEST = hex(`
  ffff ffff ffff 0200 0000 0a01 0806 0001
  0800 0604 0001 0200 0000 0a01 0ac8 0001
  ffff ffff ffff 0ac8 0001 0000 0000 0000
  0000 0000 0000 0000 0000
`);

/**
 * Gratuitous ARP reply for 10.200.0.1, broadcast, padded like GARP_REQUEST.
 * Made by: `arping -U -P -c 1 -i hvw-a -S 10.200.0.1 10.200.0.1`.
 */
export const GARP_REPLY = hex(`
  ffff ffff ffff 0200 0000 0a01 0806 0001
  0800 0604 0002 0200 0000 0a01 0ac8 0001
  ffff ffff ffff 0ac8 0001 0000 0000 0000
  0000 0000 0000 0000 0000
`);

/**
 * Gratuitous ARP request keepalived sends for its VIP 10.200.0.102 on becoming master (VRRP3 set-up below).
 */
export const GARP_KEEPALIVED = hex(`
  ffff ffff ffff 0200 0000 0a01 0806 0001
  0800 0604 0001 0200 0000 0a01 0ac8 0066
  ffff ffff ffff 0ac8 0066
`);

/**
 * UDP datagram 10.200.0.1 -> 10.200.0.2:5000 carrying "hello havip\n", with a checksum.
 * Made by: `printf 'hello havip\n' >/dev/udp/10.200.0.2/5000` (bash) in A, TX checksum offload off.
 */
export const UDP_DATAGRAM = hex(`
  0200 0000 0b01 0200 0000 0a01 0800 4500
  0028 8222 4000 4011 a310 0ac8 0001 0ac8
  0002 8311 1388 0014 c0d2 6865 6c6c 6f20
  6861 7669 700a
`);

/**
 * ICMP destination unreachable (port, code 3) from 10.200.0.2 embedding UDP_DATAGRAM's IP header and
 * payload (nothing listened on port 5000). Same capture.
 */
export const ICMP_PORT_UNREACHABLE = hex(`
  0200 0000 0a01 0200 0000 0b01 0800 45c0
  0044 bff1 0000 4001 a475 0ac8 0002 0ac8
  0001 0303 12b5 0000 0000 4500 0028 8222
  4000 4011 a310 0ac8 0001 0ac8 0002 8311
  1388 0014 c0d2 6865 6c6c 6f20 6861 7669
  700a
`);

/**
 * TCP SYN 10.200.0.1 -> 10.200.0.2:80 with options (MSS, SACK permitted, timestamps, window scale):
 * a 40-byte TCP header. Made by: `exec 3<>/dev/tcp/10.200.0.2/80` (bash) in A, TX checksum offload off.
 */
export const TCP_SYN = hex(`
  0200 0000 0b01 0200 0000 0a01 0800 4500
  003c 05f6 4000 4006 1f34 0ac8 0001 0ac8
  0002 b2da 0050 b368 296b 0000 0000 a002
  faf0 00bc 0000 0204 05b4 0402 080a ac91
  fa2d 0000 0000 0103 030a
`);

/**
 * The RST/ACK that answered TCP_SYN (port 80 closed). Same capture.
 */
export const TCP_RST_ACK = hex(`
  0200 0000 0a01 0200 0000 0b01 0800 4500
  0028 0000 4000 4006 253e 0ac8 0002 0ac8
  0001 0050 b2da 0000 0000 b368 296c 5014
  0000 0a3f 0000
`);

/**
 * ICMP echo request whose IPv4 header carries options (NOP + Record Route): IHL 15, a 60-byte
 * header. Made by: `ping -c 1 -R 10.200.0.2` in A.
 */
export const IPV4_RECORD_ROUTE = hex(`
  0200 0000 0b01 0200 0000 0a01 0800 4f00
  007c c9a4 4000 4001 1e72 0ac8 0001 0ac8
  0002 0107 2708 0ac8 0001 0000 0000 0000
  0000 0000 0000 0000 0000 0000 0000 0000
  0000 0000 0000 0000 0000 0800 9d14 211a
  0001 a0ed 006b 0000 0000 d9a4 0000 0000
  0000 1011 1213 1415 1617 1819 1a1b 1c1d
  1e1f 2021 2223 2425 2627 2829 2a2b 2c2d
  2e2f 3031 3233 3435 3637
`);

/**
 * An 802.1Q-tagged frame (VLAN 100, priority 5) carrying a gratuitous ARP request. This kernel has
 * no 8021q module, so the tag is arping's own: `arping -U -c 1 -V 100 -Q 5 -i hvw-a -S 10.200.0.1 10.200.0.1`.
 */
export const VLAN_GARP = hex(`
  ffff ffff ffff 0200 0000 0a01 8100 a064
  0806 0001 0800 0604 0001 0200 0000 0a01
  0ac8 0001 ffff ffff ffff 0ac8 0001 0000
  0000 0000 0000 0000 0000 0000 0000
`);

/**
 * Kernel VXLAN (VNI 4242, UDP 4789, with an outer UDP checksum) carrying an ARP request from vxw-a
 * (02:00:00:00:0a:02, 10.201.0.1) for 10.201.0.2. Made by: `ip link add vxw-a type vxlan id 4242 local
 * 10.200.0.1 remote 10.200.0.2 dstport 4789 dev hvw-a` (and the mirror in B), then `ping -c 1 10.201.0.2` in A.
 */
export const VXLAN_ARP = hex(`
  0200 0000 0b01 0200 0000 0a01 0800 4500
  004e 6aa2 0000 4011 fa6a 0ac8 0001 0ac8
  0002 a624 12b5 003a 5358 0800 0000 0010
  9200 ffff ffff ffff 0200 0000 0a02 0806
  0001 0800 0604 0001 0200 0000 0a02 0ac9
  0001 0000 0000 0000 0ac9 0002
`);

/**
 * Kernel VXLAN carrying the inner ICMP echo request 10.201.0.1 -> 10.201.0.2. Same capture.
 */
export const VXLAN_ICMP = hex(`
  0200 0000 0b01 0200 0000 0a01 0800 4500
  0086 6aa3 0000 4011 fa31 0ac8 0001 0ac8
  0002 bfff 12b5 0072 5bae 0800 0000 0010
  9200 0200 0000 0b02 0200 0000 0a02 0800
  4500 0054 c05c 4000 4001 64b8 0ac9 0001
  0ac9 0002 0800 0674 220f 0001 a6ed 006b
  0000 0000 6650 0300 0000 0000 1011 1213
  1415 1617 1819 1a1b 1c1d 1e1f 2021 2223
  2425 2627 2829 2a2b 2c2d 2e2f 3031 3233
  3435 3637
`);

/**
 * VRRPv2 advertisement from keepalived 2.2.7: VRID 51, priority 150, 1 s, no authentication,
 * VIPs 10.200.0.100 and 10.200.0.101, to 224.0.0.18 with TTL 255. Made by: keepalived in A with
 * `vrrp_version 2`, `virtual_router_id 51`, `priority 150`, `advert_int 1`, state MASTER.
 */
export const VRRP2_ADVERT = hex(`
  0100 5e00 0012 0200 0000 0a01 0800 45c0
  002c 0001 0000 ff70 cfc5 0ac8 0001 e000
  0012 2133 9602 0001 3270 0ac8 0064 0ac8
  0065 0000 0000 0000 0000
`);

/**
 * The priority-0 advert keepalived sent for VRID 51 when it was stopped. Same capture.
 */
export const VRRP2_RESIGN = hex(`
  0100 5e00 0012 0200 0000 0a01 0800 45c0
  002c 0004 0000 ff70 cfc2 0ac8 0001 e000
  0012 2133 0002 0001 c870 0ac8 0064 0ac8
  0065 0000 0000 0000 0000
`);

/**
 * VRRPv2 advertisement with simple-password authentication (type 1, "havip"): VRID 53, priority
 * 100, VIP 10.200.0.103. Made by: keepalived with `authentication { auth_type PASS auth_pass havip }`.
 */
export const VRRP2_AUTH_ADVERT = hex(`
  0100 5e00 0012 0200 0000 0a01 0800 45c0
  0028 0001 0000 ff70 cfc9 0ac8 0001 e000
  0012 2135 6401 0101 1fce 0ac8 0067 6861
  7669 7000 0000
`);

/**
 * VRRPv3 advertisement: VRID 52, priority 200, 10 centiseconds, VIP 10.200.0.102, checksum over
 * the IPv4 pseudo-header. Made by: keepalived with `vrrp_version 3`, `advert_int 0.1`, `priority 200`.
 */
export const VRRP3_ADVERT = hex(`
  0100 5e00 0012 0200 0000 0a01 0800 45c0
  0020 0001 0000 ff70 cfd1 0ac8 0001 e000
  0012 3134 c801 000a 103a 0ac8 0066
`);

/**
 * The priority-0 VRRPv3 advert keepalived sent for VRID 52 when it was stopped. Same capture.
 */
export const VRRP3_RESIGN = hex(`
  0100 5e00 0012 0200 0000 0a01 0800 45c0
  0020 003a 0000 ff70 cf98 0ac8 0001 e000
  0012 3134 0001 000a d83a 0ac8 0066
`);

/** The whole file tcpdump 4.99 wrote for VLAN_GARP (little-endian, microseconds, snaplen 262144). */
export const PCAP_FILE_VLAN_GARP = hex(`
  d4c3 b2a1 0200 0400 0000 0000 0000 0000
  0000 0400 0100 0000 a2ed 006b fef7 0100
  3e00 0000 3e00 0000 ffff ffff ffff 0200
  0000 0a01 8100 a064 0806 0001 0800 0604
  0001 0200 0000 0a01 0ac8 0001 ffff ffff
  ffff 0ac8 0001 0000 0000 0000 0000 0000
  0000 0000 0000
`);
