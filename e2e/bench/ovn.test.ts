// The OVN peer topology of the benchmarks: hosts reach each other over the logical switch, the VIP's virtual
// port binds to whichever parent sent the last gratuitous ARP, and down() leaves no namespace, daemon or
// directory behind.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ovnTopology } from "../../bench/topologies/ovn.ts";
import { eventually, namespacesWithPrefix, testPrefix } from "../lab/helpers.ts";
import { rootOnly } from "../fabric-lab/helpers.ts";

const VIP = "10.0.1.50";

function inNs(namespace: string, args: string[]): string {
  return execFileSync("ip", ["netns", "exec", namespace, ...args], { encoding: "utf8" });
}

/** Sends one gratuitous ARP for the VIP from eth0 (arping exits 1 for want of replies: expected). */
function announce(namespace: string): void {
  try {
    execFileSync("ip", ["netns", "exec", namespace, "arping", "-U", "-i", "eth0", "-S", VIP, "-c", "1", VIP], {
      stdio: "ignore",
    });
  } catch {
    // no reply to a gratuitous ARP
  }
}

/** Pids of processes whose command line mentions `needle` (the topology's private directory). */
function processesMentioning(needle: string): number[] {
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}

test(
  "OVN peer: hosts ping, the virtual port follows gratuitous ARPs, nothing is left",
  rootOnly("bench ovn"),
  async (t) => {
    const prefix = testPrefix("bov");
    const topo = await ovnTopology({
      hosts: ["vm-a", "vm-b", "vm-c"],
      prefix,
      vip: { address: VIP, parents: ["vm-a", "vm-b"] },
    });
    t.after(() => topo.down());
    const [a, b, c] = topo.hosts;
    assert.ok(a !== undefined && b !== undefined && c !== undefined);
    const dirs = readdirSync(tmpdir()).filter((d) => d.startsWith(`havip-bench-${prefix}`));
    assert.equal(dirs.length, 1, "one private directory for the daemons");

    assert.match(inNs(b.namespace, ["ping", "-c", "2", "-i", "0.2", "-W", "1", c.ip]), / 0% packet loss/);
    assert.equal(await topo.holder!(), null, "no holder before any announcement");

    inNs(a.namespace, ["ip", "addr", "add", `${VIP}/24`, "dev", "eth0"]);
    announce(a.namespace);
    await eventually("vm-a to hold the VIP", 10_000, async () =>
      (await topo.holder!()) === "vm-a" ? true : undefined,
    );
    assert.match(inNs(c.namespace, ["ping", "-c", "2", "-i", "0.2", "-W", "1", VIP]), / 0% packet loss/);

    inNs(a.namespace, ["ip", "addr", "del", `${VIP}/24`, "dev", "eth0"]);
    inNs(b.namespace, ["ip", "addr", "add", `${VIP}/24`, "dev", "eth0"]);
    announce(b.namespace);
    await eventually("vm-b to hold the VIP", 10_000, async () =>
      (await topo.holder!()) === "vm-b" ? true : undefined,
    );
    inNs(c.namespace, ["ip", "neigh", "flush", "dev", "eth0"]);
    assert.match(inNs(c.namespace, ["ping", "-c", "2", "-i", "0.2", "-W", "1", VIP]), / 0% packet loss/);

    await topo.down();
    assert.deepEqual(namespacesWithPrefix(prefix), [], "no namespace with the prefix");
    assert.ok(!existsSync(join(tmpdir(), dirs[0]!)), "the private directory is gone");
    assert.deepEqual(processesMentioning(`havip-bench-${prefix}`), [], "no OVS/OVN daemon of the run is left");
    await topo.down(); // safe to call twice
  },
);
