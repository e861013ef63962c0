// Fabric-local state: how vNICs reach the fabric (VXLAN or veth attachments) and the internet edge. Not tenant data,
// so not in the control plane's store: a JSON file in the data directory, replaced atomically (write a
// temporary file, fsync, rename) so a crash leaves either the old or the new version.
import { open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { isVeth, type AgentAttachment, type VxlanAttachment } from "../agent/protocol.ts";

/** A VXLAN attachment (`kind` absent: the form before veth existed) or a veth one (`kind: "veth"`). */
export type Attachment = AgentAttachment;

export interface InternetEdge extends VxlanAttachment {
  /** The fabric's own address on the internet side, its on-link prefix and next hop. */
  ip: string;
  cidr: string;
  gateway: string | null;
  mac: string;
}

export interface FabricLocalState {
  attachments: Record<string, Attachment>; // by vNIC id
  internet: InternetEdge | null;
}

export const FABRIC_STATE_FILE = "fabric.json";

export function emptyLocalState(): FabricLocalState {
  return { attachments: {}, internet: null };
}

/**
 * Who else already uses what `attachment` would use for `vnicId`: another vNIC's attachment on the same VXLAN
 * endpoint (remote address, port, VNI) or the same veth interface, or the internet edge on that endpoint.
 * The fabric refuses such a clash too; saying whose it is tells the operator which one is stale (after a
 * reboot, one recorded before it). Null when nothing does.
 */
export function attachmentConflict(state: FabricLocalState, vnicId: string, attachment: Attachment): string | null {
  const sameEndpoint = (a: Attachment): boolean =>
    isVeth(attachment)
      ? isVeth(a) && a.interface === attachment.interface
      : !isVeth(a) &&
        a.vni === attachment.vni &&
        a.remoteAddress === attachment.remoteAddress &&
        a.remotePort === attachment.remotePort;
  const what = isVeth(attachment)
    ? `interface ${attachment.interface}`
    : `VNI ${String(attachment.vni)} from ${attachment.remoteAddress}:${String(attachment.remotePort)}`;
  for (const [id, a] of Object.entries(state.attachments)) {
    if (id !== vnicId && sameEndpoint(a)) {
      return `${what} is already the attachment of vNIC ${id} (DELETE /v1/fabric/attachments/${id} if it is stale)`;
    }
  }
  if (state.internet !== null && sameEndpoint(state.internet)) {
    return `${what} is already the internet edge's (DELETE /v1/fabric/internet if it is stale)`;
  }
  return null;
}

export async function loadLocalState(dataDir: string): Promise<FabricLocalState> {
  let text: string;
  try {
    text = await readFile(join(dataDir, FABRIC_STATE_FILE), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return emptyLocalState();
    throw e;
  }
  const parsed = JSON.parse(text) as Partial<FabricLocalState>;
  return { attachments: parsed.attachments ?? {}, internet: parsed.internet ?? null };
}

export async function saveLocalState(dataDir: string, state: FabricLocalState): Promise<void> {
  const path = join(dataDir, FABRIC_STATE_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  const file = await open(tmp, "w", 0o600);
  try {
    await file.writeFile(`${JSON.stringify(state, null, 2)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
