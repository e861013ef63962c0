// Attaching an API instance to the lab: its primary vNIC becomes a namespace whose eth0 is a VXLAN device (or,
// with attach "veth", one end of a veth pair into the fabric namespace) with the vNIC's MAC, address, prefix
// and gateway, and its VPC's MTU; the vNIC's attachment (where the fabric reaches it) is registered with
// havipd. Detaching undoes both.
import type { Instance, Subnet, Vpc } from "@havip/control";
import { UNDERLAY, vethFabricName } from "@havip/lab";
import type { AttachedInstance, Lab, LabEndpoint } from "@havip/lab";
import type { ApiClient } from "../client.ts";
import { KINDS, resolveId } from "../resolve.ts";
import { labAwait, labCall, LabFailure, labNameOf } from "./lab-context.ts";
import { path } from "./shared.ts";

/** The first VNI the lab hands out; instances get the lowest free one from here. */
export const FIRST_VNI = 5001;

/** An item of GET /v1/fabric/attachments: VXLAN (vni, remoteAddress, remotePort) or veth (interface). */
interface Attachment {
  vnicId: string;
  kind?: "vxlan" | "veth";
  vni?: number;
  remoteAddress?: string;
  remotePort?: number;
  interface?: string;
}

/** How a lab instance reaches the fabric: a kernel VXLAN device (default) or a veth pair. */
export type AttachKind = "vxlan" | "veth";

/** The lowest VNI from FIRST_VNI that neither the lab nor havipd's attachments use. */
export function freeVni(used: Iterable<number>): number {
  const taken = new Set(used);
  let vni = FIRST_VNI;
  while (taken.has(vni)) vni++;
  return vni;
}

/** The VNIs the lab's instances, havipd's vNIC attachments and its internet edge use. */
export async function usedVnis(lab: Lab, admin: ApiClient): Promise<number[]> {
  const attachments = await admin.get<{ items: Attachment[] }>("/v1/fabric/attachments");
  const vnis = attachments.items.flatMap((a) => (a.vni === undefined ? [] : [a.vni]));
  const { internet } = await admin.get<{ internet: { vni?: number } | null }>("/v1/fabric/internet");
  const edge = internet?.vni === undefined ? [] : [internet.vni];
  return [...lab.state.instances.map((i) => i.vni), ...vnis, ...edge];
}

/**
 * The VNI for a vNIC the lab attaches: the one havipd has recorded for it, when it is a VXLAN attachment from
 * the lab's underlay that no lab instance uses (the lab's record was lost while havipd kept the attachment),
 * else the lowest free one. Keeping it keeps havipd's recorded attachment valid instead of clashing with it.
 */
async function vniFor(lab: Lab, admin: ApiClient, vnicId: string): Promise<number> {
  const { items } = await admin.get<{ items: Attachment[] }>("/v1/fabric/attachments");
  const recorded = items.find((a) => a.vnicId === vnicId);
  const vni = recorded?.kind === "veth" ? undefined : recorded?.vni;
  if (
    vni !== undefined &&
    recorded?.remoteAddress === UNDERLAY.underlayAddress &&
    !lab.state.instances.some((i) => i.vni === vni)
  ) {
    return vni;
  }
  return freeVni(await usedVnis(lab, admin));
}

export interface AttachResult {
  instance: Instance;
  labName: string;
  attached: AttachedInstance<LabEndpoint>;
  already: boolean;
}

/** Attaches an instance (id or unique name); an instance already attached is left as it is (whatever its kind). */
export async function attachApiInstance(
  lab: Lab,
  admin: ApiClient,
  ref: string,
  attach: AttachKind = "vxlan",
): Promise<AttachResult> {
  const id = await resolveId<Instance>(admin, KINDS.instance, ref);
  const instance = await admin.get<Instance>(path("/v1/instances", id));
  const vnic = instance.vnics.find((v) => v.id === instance.primaryVnicId) ?? instance.vnics[0];
  if (vnic === undefined) throw new LabFailure(`instance ${instance.name} has no vNIC`);
  const subnet = await admin.get<Subnet>(path("/v1/subnets", vnic.subnetId));
  const vpc = await admin.get<Vpc>(path("/v1/vpcs", subnet.vpcId));
  const labName = labNameOf(instance.name);
  const existing = lab.state.instances.find((i) => i.name === labName);
  if (existing !== undefined) {
    if (existing.mac !== vnic.macAddress.toLowerCase()) {
      throw new LabFailure(
        `the lab's instance ${labName} belongs to another vNIC (MAC ${existing.mac}); detach it first: havip lab instance down ${labName}`,
      );
    }
    const attached = { ...existing, endpoint: endpointOf(existing.vni, existing.attach ?? "vxlan") };
    await register(admin, vnic.id, attached);
    return { instance, labName, attached, already: true };
  }
  const prefixLen = Number(subnet.cidr.split("/")[1]);
  const vni = await vniFor(lab, admin, vnic.id);
  const attached = await labAwait(() =>
    lab.attachInstance({
      name: labName,
      vni,
      mac: vnic.macAddress,
      ip: vnic.ipAddress,
      prefixLen,
      gateway: subnet.gatewayIp,
      // eth0 carries what the VPC carries: jumbo frames in a jumbo VPC (the fabric drops anything bigger).
      mtu: vpc.mtu,
      attach,
    }),
  );
  try {
    await register(admin, vnic.id, attached);
  } catch (e) {
    await lab.detachInstance(labName).catch(() => undefined);
    throw e;
  }
  return { instance, labName, attached, already: false };
}

// The lab's VXLAN instances all reach the fabric from the underlay namespace's address, on the VXLAN port;
// a veth instance through its pair's end in the fabric namespace, named from its VNI.
function endpointOf(vni: number, attach: AttachKind): LabEndpoint {
  if (attach === "veth") return { kind: "veth", interface: vethFabricName(vni) };
  return { address: UNDERLAY.underlayAddress, port: UNDERLAY.vxlanPort, vni };
}

/** The body of PUT /v1/fabric/attachments/{vnicId} for an instance's endpoint. */
export function attachmentBody(endpoint: LabEndpoint): Record<string, unknown> {
  if (endpoint.kind === "veth") return { interface: endpoint.interface };
  return { remoteAddress: endpoint.address, remotePort: endpoint.port, vni: endpoint.vni };
}

async function register(admin: ApiClient, vnicId: string, attached: AttachedInstance<LabEndpoint>): Promise<void> {
  await admin.request("PUT", path("/v1/fabric/attachments", vnicId), { body: attachmentBody(attached.endpoint) });
}

/** Detaches an instance (API id/name, or its lab name) and removes its vNIC's attachment from havipd. */
export async function detachInstance(lab: Lab, admin: ApiClient | undefined, ref: string): Promise<string> {
  let labName = lab.state.instances.some((i) => i.name === ref) ? ref : labNameOf(ref);
  let vni = lab.state.instances.find((i) => i.name === labName)?.vni;
  if (vni === undefined && admin !== undefined) {
    const id = await resolveId<Instance>(admin, KINDS.instance, ref);
    const instance = await admin.get<Instance>(path("/v1/instances", id));
    labName = labNameOf(instance.name);
    vni = lab.state.instances.find((i) => i.name === labName)?.vni;
  }
  if (vni === undefined) labCall(() => lab.namespaceOf(labName)); // the lab's own "no such instance" error
  await labAwait(() => lab.detachInstance(labName));
  if (admin !== undefined) {
    const attachments = await admin.get<{ items: Attachment[] }>("/v1/fabric/attachments");
    const veth = vni === undefined ? null : vethFabricName(vni);
    for (const a of attachments.items.filter((x) => (x.kind === "veth" ? x.interface === veth : x.vni === vni))) {
      await admin.request("DELETE", path("/v1/fabric/attachments", a.vnicId));
    }
  }
  return labName;
}
