// Protocol numbers the codecs and the fabric dispatch on.

export const ETHERTYPE = { IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100, IPV6: 0x86dd } as const;

export const IPPROTO = { ICMP: 1, IGMP: 2, TCP: 6, UDP: 17, VRRP: 112 } as const;
