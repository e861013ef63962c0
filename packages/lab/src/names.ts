// How the lab names what it makes. Everything carries the lab's prefix, so that `labDown` can sweep it and
// an operator can see at a glance (`ip netns`) what belongs to the lab.
import { LabError } from "./errors.ts";

export const DEFAULT_PREFIX = "hvl-";

/** Names of the lab's own namespaces; an instance may not take them. */
export const ROLES = ["fabric", "underlay", "internet"] as const;
export type Role = (typeof ROLES)[number];

// The only '-' of a prefix is its last character, so no lab's prefix is the start of another lab's
// namespace names (the sweep in labDown can never reach another lab).
const PREFIX = /^[a-z][a-z0-9]{0,11}-$/;
const INSTANCE = /^[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?$/;

export const MAX_INTERFACE_NAME = 15;

export function checkPrefix(prefix: string): void {
  if (!PREFIX.test(prefix)) {
    throw new LabError(
      "Lab.InvalidName",
      `Lab prefix '${prefix}' must be a lower-case letter, up to 11 more letters or digits, and a '-' (e.g. 'hvl-')`,
    );
  }
}

export function isRole(name: string): name is Role {
  return (ROLES as readonly string[]).includes(name);
}

export function checkInstanceName(name: string): void {
  if (!INSTANCE.test(name)) {
    throw new LabError(
      "Lab.InvalidName",
      `Instance name '${name}' must be 1–24 lower-case letters, digits or '-', starting and ending with a letter or digit`,
    );
  }
  if (isRole(name)) {
    throw new LabError("Lab.InvalidName", `Instance name '${name}' is reserved for the lab's ${name} namespace`);
  }
}

/** The namespace of an instance or of one of the lab's roles. */
export function namespaceName(prefix: string, name: string): string {
  return `${prefix}${name}`;
}

/**
 * The name a VXLAN device has in the underlay namespace before it moves into its instance as eth0. The
 * underlay belongs to one lab and a VNI to one instance, so the name is unique without the prefix, and it
 * fits the kernel's 15 characters (a VNI has up to 8 digits).
 */
export function vxlanTempName(vni: number): string {
  return `vx${vni}`;
}

/**
 * The fabric namespace's end of an instance's veth pair (a veth attachment). The fabric namespace belongs to
 * one lab and a VNI to one instance, so the name is unique there, and fits 15 characters.
 */
export function vethFabricName(vni: number): string {
  return `vt${vni}`;
}
