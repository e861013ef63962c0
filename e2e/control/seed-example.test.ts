// The seed example, driven entirely through the `havip` CLI against a real havipd: an operator creates a
// project and an EIP pool; the project's token builds VPC → subnet → HAVIP 10.0.1.50 → vm-A, vm-B → an EIP
// bound to the HAVIP; holder observations for vm-A then vm-B move the HAVIP (generations 1 and 2). havipd is
// then stopped with SIGTERM and restarted on the same data directory: everything is still there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { Eip, HaVip, HolderHistoryEntry, Instance, Project } from "@havip/control";
import { hasStackTrace, havip, havipOk, OPERATOR_TOKEN, startHavipd, tempDir } from "./harness.ts";

test("the seed example works from the CLI and survives a restart", { timeout: 120_000 }, async (t) => {
  const dataDir = await tempDir(t, "havip-seed-");
  const configDir = await tempDir(t, "havip-seed-config-");
  let daemon = await startHavipd(t, { dataDir });

  const asOperator = { HAVIP_API: daemon.url, HAVIP_TOKEN: OPERATOR_TOKEN };
  const project = JSON.parse(await havipOk(["project", "create", "seed", "--json"], asOperator)) as Project & {
    token: string;
  };
  assert.match(project.id, /^proj-/);
  assert.ok(project.token.length > 0);
  await havipOk(["pool", "create", "--region", "region-1", "--cidr", "198.51.100.0/24"], asOperator);

  // The tenant logs in once; later commands take the API and token from the config file.
  const config = join(configDir, "havip", "config.json");
  const asTenant = { HAVIP_CONFIG: config };
  const login = await havipOk(["login", "--api", daemon.url, "--token", project.token], asTenant);
  assert.match(login, /with a project token/);
  assert.equal((await stat(config)).mode & 0o777, 0o600);

  await havipOk(["vpc", "create", "--name", "seed-vpc", "--cidr", "10.0.0.0/16", "--region", "region-1"], asTenant);
  await havipOk(
    ["subnet", "create", "--vpc", "seed-vpc", "--name", "seed-subnet", "--cidr", "10.0.1.0/24", "--zone", "zone-a"],
    asTenant,
  );
  const havipCreated = JSON.parse(
    await havipOk(
      ["havip", "create", "--subnet", "seed-subnet", "--ip", "10.0.1.50", "--name", "seed-vip", "--json"],
      asTenant,
    ),
  ) as HaVip;
  assert.equal(havipCreated.ipAddress, "10.0.1.50");
  assert.equal(havipCreated.status, "available");
  assert.equal(havipCreated.holder, null);
  const vmA = JSON.parse(
    await havipOk(["instance", "create", "--name", "vm-A", "--subnet", "seed-subnet", "--json"], asTenant),
  ) as Instance;
  const vmB = JSON.parse(
    await havipOk(["instance", "create", "--name", "vm-B", "--subnet", "seed-subnet", "--json"], asTenant),
  ) as Instance;
  const eip = JSON.parse(await havipOk(["eip", "allocate", "--region", "region-1", "--json"], asTenant)) as Eip;
  assert.match(eip.publicIp, /^198\.51\.100\.\d+$/);
  const bound = JSON.parse(
    await havipOk(["eip", "associate", eip.publicIp, "--havip", "seed-vip", "--json"], asTenant),
  ) as Eip;
  assert.deepEqual(bound.target, { type: "havip", havipId: havipCreated.id });

  // The fabric's report, sent by the operator: vm-A announced the HAVIP.
  const observedA = await havipOk(["observe", "seed-vip", "vm-A"], asOperator);
  assert.match(observedA, /^vm-A \(eni-[^)]+\) now holds seed-vip \(10\.0\.1\.50\), generation 1$/m);
  const afterA = JSON.parse(await havipOk(["havip", "show", "seed-vip", "--json"], asTenant)) as HaVip;
  assert.equal(afterA.status, "in-use");
  assert.equal(afterA.holder?.instanceId, vmA.id);
  assert.equal(afterA.holder.vnicId, vmA.primaryVnicId);
  assert.equal(afterA.holder.generation, 1);
  assert.equal(afterA.generation, 1);
  assert.deepEqual(afterA.eip, { id: eip.id, publicIp: eip.publicIp });

  // A re-announcement by the holder changes nothing; vm-B's announcement moves the HAVIP.
  const again = await havipOk(["observe", "seed-vip", vmA.primaryVnicId], asOperator);
  assert.match(again, /holder unchanged, generation 1/);
  await havipOk(["observe", havipCreated.id, "vm-B"], asOperator);
  const afterB = JSON.parse(await havipOk(["havip", "show", havipCreated.id, "--json"], asTenant)) as HaVip;
  assert.equal(afterB.status, "in-use");
  assert.equal(afterB.holder?.instanceId, vmB.id);
  assert.equal(afterB.generation, 2);
  const history = JSON.parse(await havipOk(["havip", "history", "seed-vip", "--json"], asTenant)) as {
    items: HolderHistoryEntry[];
  };
  assert.deepEqual(
    history.items.map((e) => [e.generation, e.instanceId, e.reason]),
    [
      [1, vmA.id, "manual"],
      [2, vmB.id, "manual"],
    ],
  );

  // Table output: the columns a person wants, with the holder by name and the EIP's address.
  const table = await havipOk(["havip", "list"], asTenant);
  const lines = table.trimEnd().split("\n");
  assert.match(lines[0]!, /^ID +NAME +ADDRESS +STATUS +HOLDER +GENERATION +EIP$/);
  assert.equal(lines.length, 2);
  assert.deepEqual(lines[1]!.split(/ {2,}/), [
    havipCreated.id,
    "seed-vip",
    "10.0.1.50",
    "in-use",
    "vm-B",
    "2",
    eip.publicIp,
  ]);
  const details = await havipOk(["havip", "show", "seed-vip"], asTenant);
  assert.match(details, new RegExp(`^holder +vm-B \\(${vmB.id}\\), vNIC ${vmB.primaryVnicId}, since `, "m"));
  assert.match(details, new RegExp(`^eip +${eip.publicIp.replaceAll(".", "\\.")} \\(${eip.id}\\)$`, "m"));
  const instances = await havipOk(["instance", "list"], asTenant);
  assert.match(instances, /^i-\S+ +vm-A +vpc-\S+ +subnet-\S+ +10\.0\.1\.\d+ +02:/m);

  // Errors: an API rule (code and message, exit 1) and a usage error (exit 2), never a stack trace.
  const refused = await havip(["vpc", "delete", "seed-vpc"], asTenant);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^error: DependencyViolation\.VpcHasSubnets: .+\n$/);
  const usage = await havip(["havip", "create", "--ip", "10.0.1.51"], asTenant);
  assert.equal(usage.code, 2);
  const forbidden = await havip(["observe", "seed-vip", "vm-A"], asTenant);
  assert.equal(forbidden.code, 1);
  assert.match(forbidden.stderr, /^error: Forbidden: /);
  assert.ok(![refused, usage, forbidden].some((r) => hasStackTrace(r.stderr)));

  // SIGTERM: a clean exit, and the operator token never appears in the logs.
  const exit = await daemon.stop("SIGTERM");
  assert.deepEqual(exit, { code: 0, signal: null }, daemon.stderr());
  assert.ok(!daemon.stdout().includes(OPERATOR_TOKEN) && !daemon.stderr().includes(OPERATOR_TOKEN));
  assert.ok(!daemon.stdout().includes(project.token));

  // Restart on the same data directory (another port): every resource is still there.
  daemon = await startHavipd(t, { dataDir });
  const moved = { HAVIP_CONFIG: config, HAVIP_API: daemon.url };
  const restored = JSON.parse(await havipOk(["havip", "show", "seed-vip", "--json"], moved)) as HaVip;
  assert.deepEqual(restored, afterB);
  const restoredHistory = JSON.parse(await havipOk(["havip", "history", "seed-vip", "--json"], moved)) as {
    items: HolderHistoryEntry[];
  };
  assert.deepEqual(restoredHistory.items, history.items);
  const names = (JSON.parse(await havipOk(["instance", "list", "--json"], moved)) as { items: Instance[] }).items
    .map((i) => i.name)
    .sort();
  assert.deepEqual(names, ["vm-A", "vm-B"]);
  assert.deepEqual(JSON.parse(await havipOk(["eip", "show", eip.id, "--json"], moved)), bound);
  assert.deepEqual(await daemon.stop("SIGTERM"), { code: 0, signal: null });
});
