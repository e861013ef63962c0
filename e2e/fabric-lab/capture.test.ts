// A capture of the HAVIP taken during a real keepalived failover (POST /v1/captures, as `havip capture` and the
// console call it), written to a file and read back with `tcpdump -r`: it shows vm-B's gratuitous ARP for the
// HAVIP (sender IP = target IP = the VIP, from vm-B's MAC). /metrics counts the holder changes.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { carriesAddress } from "@havip/fabric";
import { parseIpv4, readPcap } from "@havip/wire";
import { removeDir } from "../lab/helpers.ts";
import { CaseLab, fetchName, keepalivedFor, rootOnly, type CaseVm, type LabDaemon } from "./helpers.ts";

const VIP = "10.0.1.50";
const VMS: readonly CaseVm[] = [
  { lab: "vm-a", name: "vm-A", ip: "10.0.1.11", vni: 5101 },
  { lab: "vm-b", name: "vm-B", ip: "10.0.1.12", vni: 5102 },
  { lab: "vm-c", name: "vm-C", ip: "10.0.1.13", vni: 5103 },
];

/** One call over havipd's Unix socket that keeps the answer's bytes (a pcap is not JSON). */
function raw(
  havipd: LabDaemon,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: havipd.socket,
        path,
        method,
        headers: {
          authorization: `Bearer ${havipd.token}`,
          ...(payload === undefined ? {} : { "content-type": "application/json" }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

test(
  "a HAVIP capture during a keepalived failover, read with tcpdump -r, shows vm-B's gratuitous ARP",
  rootOnly("fabric-lab capture"),
  async (t) => {
    const out = mkdtempSync(join(tmpdir(), "havip-capture-"));
    t.after(() => {
      removeDir(out);
    });
    const run = await CaseLab.start(t, "hvcap");
    const { lab, havipd } = run;
    const net = await run.network("capture", VMS);
    for (const [name, priority] of [
      ["vm-a", 150],
      ["vm-b", 100],
    ] as const) {
      await lab.startHttpService(name);
      await lab.startKeepalived(
        name,
        keepalivedFor(VIP, priority, { version: 3, advertInterval: 0.1, garpMasterDelay: 1 }),
      );
    }
    await net.holderIs("vm-a");

    // The capture runs while vm-A's keepalived stops and vm-B takes over; vm-C's requests fill it up.
    const capturing = raw(havipd, "POST", "/v1/captures", { target: net.havip.id, count: 50, timeoutMs: 20_000 });
    await sleep(300); // the tap is installed once the request is authenticated and its target resolved
    const startedAt = Date.now();
    await lab.stopKeepalived("vm-a");
    await net.holderIs("vm-b");
    for (let i = 0; i < 5; i++) await fetchName(lab, "vm-c", VIP, 1000);
    const captured = await capturing;
    assert.equal(captured.status, 200, captured.body.toString("utf8"));
    assert.equal(captured.headers["content-type"], "application/vnd.tcpdump.pcap");
    const file = join(out, "x.pcap");
    writeFileSync(file, captured.body);

    const bMac = net.instances.get("vm-b")!.vnics[0]!.macAddress;
    const text = execFileSync("tcpdump", ["-nn", "-e", "-r", file], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines = text.split("\n").filter((l) => l !== "");
    t.diagnostic(
      `capture: ${lines.length} frames (x-capture-frames ${String(captured.headers["x-capture-frames"])}), ${Date.now() - startedAt} ms after the failover began`,
    );
    // tcpdump prints a gratuitous request as "who-has VIP … tell VIP", a gratuitous reply as "Reply VIP is-at MAC".
    const vip = VIP.replace(/\./g, "\\.");
    const garp = new RegExp(
      `^\\S+ ${bMac} > \\S+, ethertype ARP \\(0x0806\\), .*(Request who-has ${vip} .*tell ${vip},|Reply ${vip} is-at ${bMac})`,
    );
    assert.ok(
      lines.some((l) => garp.test(l)),
      `no gratuitous ARP from vm-B (${bMac}) for ${VIP} in:\n${lines.slice(0, 60).join("\n")}`,
    );
    // Everything in it carries the HAVIP's address (the HAVIP target's filter).
    const vipNumber = parseIpv4(VIP)!;
    const records = readPcap(captured.body).records;
    assert.equal(records.length, lines.length);
    assert.ok(
      records.every((r) => carriesAddress(r.data, r.data.length, vipNumber)),
      "every captured frame carries the VIP (ARP sender/target, IP source/destination)",
    );

    // /metrics saw the two holder changes (vm-A, then vm-B).
    const metrics = await raw(havipd, "GET", "/metrics");
    assert.equal(metrics.status, 200);
    const changes = new RegExp(`^havip_havip_holder_changes_total\\{havip="${net.havip.id}"\\} (\\d+)$`, "m").exec(
      metrics.body.toString("utf8"),
    );
    assert.ok(changes !== null && Number(changes[1]) >= 2, `holder changes: ${changes?.[1] ?? "none"}`);

    await run.down();
  },
);
