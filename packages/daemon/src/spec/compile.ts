// Control-plane resources → fabric NetworkSpec entries. Pure mappings: one function per resource kind, and the
// translation of one committed change into the spec changes that make the fabric follow it.
import type { ChangeEvent, Eip, HaVip, Instance, Subnet, Vnic, Vpc } from "@havip/control";
import type { EipSpec, HaVipSpec, SpecChange, SubnetSpec, VnicSpec, VpcSpec } from "@havip/fabric";

/** A vNIC's fabric port is named by the vNIC's id (one port per vNIC; attachments bind it to a VTEP). */
export function portOfVnic(vnicId: string): string {
  return vnicId;
}

export function vpcSpec(vpc: Vpc): VpcSpec {
  return { id: vpc.id, cidr: vpc.cidr, mtu: vpc.mtu };
}

export function subnetSpec(subnet: Subnet): SubnetSpec {
  return {
    id: subnet.id,
    vpcId: subnet.vpcId,
    cidr: subnet.cidr,
    gatewayIp: subnet.gatewayIp,
    broadcast: subnet.broadcast,
  };
}

export function vnicSpec(vnic: Vnic): VnicSpec {
  return {
    id: vnic.id,
    instanceId: vnic.instanceId,
    subnetId: vnic.subnetId,
    mac: vnic.macAddress,
    ip: vnic.ipAddress,
    port: portOfVnic(vnic.id),
  };
}

/** The control plane's holder and generation go along: it is the source of truth for generations. */
export function havipSpec(havip: HaVip): HaVipSpec {
  return {
    id: havip.id,
    subnetId: havip.subnetId,
    ip: havip.ipAddress,
    virtualMac: havip.virtualMac,
    members: havip.members === null ? null : havip.members.map((m) => m.vnicId),
    holderVnicId: havip.holder?.vnicId ?? null,
    generation: havip.generation,
  };
}

export function eipSpec(eip: Eip): EipSpec {
  const target = eip.target;
  return {
    id: eip.id,
    publicIp: eip.publicIp,
    target:
      target === null
        ? null
        : target.type === "havip"
          ? { type: "havip", havipId: target.havipId }
          : { type: "vnic", vnicId: target.vnicId },
  };
}

/**
 * Turns committed changes into spec changes. Stateful only in what the events do not carry: an instance's
 * deletion names the instance, not its vNICs, so the vNICs of each instance are remembered.
 */
export class ChangeCompiler {
  private readonly vnicsOfInstance = new Map<string, Set<string>>();

  /** Records an instance's vNICs (from the initial listing). */
  rememberInstance(instance: Instance): void {
    this.vnicsOfInstance.set(instance.id, new Set(instance.vnics.map((v) => v.id)));
  }

  changesFor(event: ChangeEvent): SpecChange[] {
    if (event.action === "deleted") return this.deletion(event);
    switch (event.resource) {
      case "vpc":
        return [{ op: "upsert", kind: "vpc", value: vpcSpec(event.data as Vpc) }];
      case "subnet":
        return [{ op: "upsert", kind: "subnet", value: subnetSpec(event.data as Subnet) }];
      case "instance": {
        const instance = event.data as Instance;
        this.rememberInstance(instance);
        return instance.vnics.map((v) => ({ op: "upsert", kind: "vnic", value: vnicSpec(v) }) as const);
      }
      case "vnic": {
        const vnic = event.data as Vnic;
        const known = this.vnicsOfInstance.get(vnic.instanceId) ?? new Set<string>();
        known.add(vnic.id);
        this.vnicsOfInstance.set(vnic.instanceId, known);
        return [{ op: "upsert", kind: "vnic", value: vnicSpec(vnic) }];
      }
      case "havip":
        return [{ op: "upsert", kind: "havip", value: havipSpec(event.data as HaVip) }];
      case "eip":
        return [{ op: "upsert", kind: "eip", value: eipSpec(event.data as Eip) }];
      default:
        return []; // projects, pools, quotas: nothing the data plane needs
    }
  }

  private deletion(event: ChangeEvent): SpecChange[] {
    switch (event.resource) {
      case "vpc":
      case "subnet":
      case "vnic":
      case "havip":
      case "eip":
        return [{ op: "delete", kind: event.resource, id: event.id }];
      case "instance": {
        const vnics = this.vnicsOfInstance.get(event.id) ?? new Set<string>();
        this.vnicsOfInstance.delete(event.id);
        return [...vnics].map((id) => ({ op: "delete", kind: "vnic", id }) as const);
      }
      default:
        return [];
    }
  }
}
