// What the data-plane and failover benchmarks run on: namespaces whose eth0 carries an address in one /24,
// joined by a system under test (havip's fabric, OVN, a Linux bridge, kernel VXLAN). Every system implements
// this, so the same workload runs on each in the same run.

export interface BenchHost {
  /** Short name, e.g. "vm-a". */
  name: string;
  /** The network namespace the host lives in (for `ip netns exec`). */
  namespace: string;
  /** eth0's address (prefix /24) and MAC. */
  ip: string;
  mac: string;
}

export interface TopologyOptions {
  /** Hosts to create, in order; their addresses are 10.0.1.11, .12, .13 … */
  hosts: readonly string[];
  /** eth0's MTU in every host (default 1500). */
  mtu?: number;
  /** A virtual IP that `parents` may claim with a gratuitous ARP (failover benchmark); omitted for data plane. */
  vip?: { address: string; parents: readonly string[] };
  /** A unique prefix for every namespace/link/process the topology creates (parallel runs must not collide). */
  prefix: string;
}

export interface Topology {
  /** "havip", "ovn", "linux-bridge", "kernel-vxlan". */
  readonly system: string;
  readonly hosts: readonly BenchHost[];
  /** The holder of `vip` as the system's control plane reports it (host name), when it has such a notion. */
  holder?(): Promise<string | null>;
  /** Removes everything the topology created; safe to call twice, and after a failed start. */
  down(): Promise<void>;
}

export type TopologyFactory = (options: TopologyOptions) => Promise<Topology>;
