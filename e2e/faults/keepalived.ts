// The members' keepalived: the seed example's VRRP instance (as `havip lab up seed-example` configures it:
// VRRPv2, virtual router 51, advert_int 1, nopreempt, garp_master_delay 1) plus the health check operators add,
// a track_script. The check fails while a fault file exists, so that a fault can make the holder withdraw the
// way production does: keepalived enters FAULT, removes the address and resigns (priority 0).
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderKeepalivedConfig, type KeepalivedConfig } from "@havip/lab";

export const VIP = "10.0.1.50";
/** Lab names of the members and their keepalived priorities (vm-a's is higher, as in the seed example). */
export const MEMBERS = { "vm-a": 150, "vm-b": 100 } as const;
export type Member = keyof typeof MEMBERS;
export const MEMBER_NAMES = Object.keys(MEMBERS) as Member[];

export function otherMember(m: Member): Member {
  return m === "vm-a" ? "vm-b" : "vm-a";
}

function seedConfig(priority: number): KeepalivedConfig {
  return {
    instances: [
      {
        name: "VI_1",
        version: 2,
        virtualRouterId: 51,
        priority,
        advertInterval: 1,
        state: "BACKUP",
        nopreempt: true,
        virtualAddresses: [{ address: VIP, prefixLen: 24 }],
        garpMasterDelay: 1,
        authPass: "havip",
      },
    ],
  };
}

export interface TrackedKeepalived {
  conf: string;
  faultFile: string;
}

/** Writes a member's configuration and its check script into `dir`; returns where they are. */
export function writeTrackedKeepalived(dir: string, member: Member): TrackedKeepalived {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const faultFile = join(dir, `${member}.fault`);
  const check = join(dir, `${member}-check.sh`);
  writeFileSync(check, `#!/bin/sh\n# fails while the fault file exists\ntest ! -e '${faultFile}'\n`);
  chmodSync(check, 0o755);
  const seed = renderKeepalivedConfig(seedConfig(MEMBERS[member]));
  const script = ["vrrp_script fault_check {", `  script "${check}"`, "  interval 1", "  fall 1", "  rise 1", "}", ""];
  const text = seed
    .replace("global_defs {", "global_defs {\n  script_user root")
    .replace(
      "vrrp_instance VI_1 {",
      `${script.join("\n")}\nvrrp_instance VI_1 {\n  track_script {\n    fault_check\n  }`,
    );
  const conf = join(dir, `${member}-keepalived.conf`);
  writeFileSync(conf, text, { mode: 0o600 });
  return { conf, faultFile };
}
