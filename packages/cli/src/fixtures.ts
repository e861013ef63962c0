// Sample API resources for the CLI's unit tests (shapes from @havip/control's model).
import type { HaVip, Instance, Subnet, Vpc } from "@havip/control";

const at = "2025-01-02T03:04:05.678Z";

export const vpc: Vpc = {
  id: "vpc-0a1b2c3d4e5f60718",
  projectId: "proj-1",
  name: "main",
  cidr: "10.0.0.0/16",
  region: "region-1",
  mtu: 1500,
  createdAt: at,
};

export const subnet: Subnet = {
  id: "subnet-00000000000000001",
  projectId: "proj-1",
  vpcId: vpc.id,
  name: "web",
  cidr: "10.0.1.0/24",
  zone: "zone-a",
  broadcast: "auto",
  gatewayIp: "10.0.1.1",
  createdAt: at,
};

export function instance(id: string, name: string, ip: string, subnetId = subnet.id): Instance {
  const vnicId = `eni-${id.slice(2)}`;
  return {
    id,
    projectId: "proj-1",
    vpcId: vpc.id,
    name,
    primaryVnicId: vnicId,
    vnics: [
      {
        id: vnicId,
        projectId: "proj-1",
        instanceId: id,
        subnetId,
        vpcId: vpc.id,
        macAddress: "02:00:00:00:00:01",
        ipAddress: ip,
        primary: true,
        createdAt: at,
      },
    ],
    createdAt: at,
  };
}

export const vmA = instance("i-0000000000000000a", "vm-A", "10.0.1.2");
export const vmB = instance("i-0000000000000000b", "vm-B", "10.0.1.3");

export const havip: HaVip = {
  id: "havip-00000000000000001",
  projectId: "proj-1",
  vpcId: vpc.id,
  subnetId: subnet.id,
  ipAddress: "10.0.1.50",
  name: "db-vip",
  description: "",
  virtualMac: "0e:00:00:00:00:01",
  members: null,
  status: "in-use",
  holder: { instanceId: vmB.id, vnicId: vmB.primaryVnicId, since: at, generation: 2 },
  generation: 2,
  contested: null,
  eip: { id: "eip-00000000000000001", publicIp: "198.51.100.7" },
  createdAt: at,
  updatedAt: at,
};

export function page(items: unknown[], nextCursor: string | null = null): { status: number; body: unknown } {
  return { status: 200, body: { items, nextCursor } };
}

/** The same HAVIP while vm-A and vm-B both hold its address (split brain); vm-B stays the holder. */
export const contestedHavip: HaVip = {
  ...havip,
  contested: {
    since: "2025-01-02T03:05:00.123Z",
    claimants: [
      { instanceId: vmA.id, vnicId: vmA.primaryVnicId },
      { instanceId: vmB.id, vnicId: vmB.primaryVnicId },
    ],
  },
};
