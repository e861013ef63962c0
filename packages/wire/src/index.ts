// @havip/wire: pure packet codecs (no I/O, clocks or logging). Every codec takes (buf, off[, len]) where
// `len` counts the bytes available from `off`; field accessors and checksum helpers allocate nothing.
// Addresses are numbers: a MAC is a 48-bit integer, an IPv4 address a uint32.

export * from "./addr.ts";
export * from "./arp.ts";
export * from "./bytes.ts";
export * from "./checksum.ts";
export * from "./constants.ts";
export * from "./errors.ts";
export * from "./ethernet.ts";
export * from "./icmp.ts";
export * from "./ipv4.ts";
export * from "./pcap.ts";
export * from "./tcp.ts";
export * from "./udp.ts";
export * from "./vrrp.ts";
export * from "./vxlan.ts";
