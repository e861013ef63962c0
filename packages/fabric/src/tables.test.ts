// Compiling the spec: numeric tables, validation (all problems at once), broadcast domains, holder restore.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ip, mac } from "@havip/testkit";
import { parseCidr } from "./cidr.ts";
import { SpecState, type NetworkSpec } from "./spec.ts";
import { ENTRY, HaVipRuntime, compileSpec, lookupL2 } from "./tables.ts";
import { HAVIP, VM, seedSpec } from "./test-support.ts";

function compile(spec: NetworkSpec, runtimes = new Map<string, HaVipRuntime>()) {
  return compileSpec(new SpecState(spec), runtimes, 1000);
}

function problemsOf(mutate: (s: NetworkSpec) => void): string[] {
  const spec = seedSpec();
  mutate(spec);
  const r = compile(spec);
  if (r.ok) assert.fail("expected the spec to be refused");
  return r.problems;
}

describe("cidr", () => {
  it("parses strictly", () => {
    assert.deepEqual(parseCidr("10.0.0.0/16"), { network: ip("10.0.0.0"), mask: 0xffff0000, length: 16 });
    assert.deepEqual(parseCidr("0.0.0.0/0"), { network: 0, mask: 0, length: 0 });
    for (const bad of ["10.0.0.1/16", "10.0.0.0", "10.0.0.0/33", "10.0.0.0/016", "10.0.0/8", "a/8"]) {
      assert.equal(parseCidr(bad), undefined, bad);
    }
  });
});

describe("compiling the spec", () => {
  it("builds per-VPC tables keyed by numbers, with overlapping VPCs kept apart", () => {
    const r = compile(seedSpec());
    assert.ok(r.ok);
    const a = r.tables.vpcs.get("vpc-a")!;
    const b = r.tables.vpcs.get("vpc-b")!;
    const vmA = a.l3.get(ip(VM.A.ip) | 0);
    const vmX = b.l3.get(ip(VM.X.ip) | 0);
    assert.equal(vmA?.kind === ENTRY.VNIC && vmA.id, VM.A.id);
    assert.equal(vmX?.kind === ENTRY.VNIC && vmX.id, VM.X.id);
    assert.equal(lookupL2(a, mac(HAVIP.virtualMac))?.id, HAVIP.id);
    assert.equal(lookupL2(b, mac(HAVIP.virtualMac)), undefined);
    assert.equal(a.l3.get(ip("10.0.1.1") | 0)?.kind, ENTRY.GATEWAY);
    assert.equal(r.tables.eipByPublic.get(ip("198.51.100.10") | 0)?.privateIp, ip(HAVIP.ip));
    assert.equal(a.eipByPrivate.get(ip(VM.CLIENT.ip) | 0)?.id, "eip-client");
  });

  it("finds a MAC whose low 32 bits collide with another's", () => {
    const spec = seedSpec();
    spec.vnics.push({
      id: "eni-twin",
      subnetId: "subnet-app",
      mac: "06:00:00:00:01:0b",
      ip: "10.0.1.40",
      port: "p-twin",
    });
    const r = compile(spec);
    assert.ok(r.ok);
    const vpc = r.tables.vpcs.get("vpc-a")!;
    assert.equal(lookupL2(vpc, mac(VM.A.mac))?.id, VM.A.id);
    assert.equal(lookupL2(vpc, mac("06:00:00:00:01:0b"))?.id, "eni-twin");
    assert.equal(lookupL2(vpc, mac("0a:00:00:00:01:0b")), undefined);
  });

  it("computes broadcast domains: everyone, the members, or nobody", () => {
    const spec = seedSpec();
    const r1 = compile(spec);
    assert.ok(r1.ok);
    const app = r1.tables.subnets.get("subnet-app")!;
    assert.equal(app.carriesBroadcast, true);
    assert.deepEqual(
      app.domain.map((v) => v.id),
      [VM.A.id, VM.B.id],
    );
    assert.equal(r1.tables.subnets.get("subnet-client")!.carriesBroadcast, false, "no HAVIP");
    // A second HAVIP without a member list opens the domain to the whole subnet.
    spec.havips.push({ id: "havip-2", subnetId: "subnet-app", ip: "10.0.1.51", virtualMac: "02:00:00:00:aa:02" });
    const r2 = compile(spec);
    assert.ok(r2.ok);
    assert.deepEqual(
      r2.tables.subnets.get("subnet-app")!.domain.map((v) => v.id),
      [VM.A.id, VM.B.id, VM.C.id],
    );
    spec.subnets[0]!.broadcast = "unicast-only";
    const r3 = compile(spec);
    assert.ok(r3.ok);
    assert.equal(r3.tables.subnets.get("subnet-app")!.carriesBroadcast, false);
    assert.deepEqual(r3.tables.subnets.get("subnet-app")!.domain, []);
  });

  it("refuses a spec with problems, listing them all", () => {
    assert.deepEqual(
      problemsOf((s) => {
        s.vpcs.push({ id: "vpc-bad", cidr: "10.0.0.1/16" });
        s.subnets.push({
          id: "subnet-orphan",
          vpcId: "vpc-none",
          cidr: "10.9.0.0/24",
          gatewayIp: "10.9.0.1",
          broadcast: "auto",
        });
        s.vnics.push({
          id: "eni-dup-ip",
          subnetId: "subnet-app",
          mac: "02:00:00:00:01:99",
          ip: VM.B.ip,
          port: "p-dup",
        });
      }),
      [
        'vpc vpc-bad: invalid CIDR "10.0.0.1/16"',
        "subnet subnet-orphan: unknown vpc vpc-none",
        "vnic eni-dup-ip 10.0.1.12: address already in use in vpc-a",
      ],
    );
    const cases: [(s: NetworkSpec) => void, RegExp][] = [
      [(s) => (s.routerMac = "01:00:00:00:00:01"), /routerMac: MAC 01:00:00:00:00:01 is not unicast/],
      [(s) => (s.vnics[0]!.mac = VM.B.mac), /MAC already in use/],
      [(s) => (s.vnics[0]!.ip = "10.0.2.99"), /is not in subnet/],
      [(s) => (s.vnics[0]!.port = VM.B.port), /already carries a vNIC/],
      [(s) => (s.vnics[0]!.port = "internet"), /is the internet port/],
      [(s) => (s.havips[0]!.ip = VM.C.ip), /address already in use/],
      [(s) => (s.havips[0]!.virtualMac = "02:00:00:00:00:01"), /MAC is the router MAC/],
      [(s) => (s.eips[1]!.publicIp = "198.51.100.10"), /already in use/],
      [
        (s) => s.eips.push({ id: "eip-x", publicIp: "198.51.100.99", target: { type: "havip", havipId: HAVIP.id } }),
        /already has EIP/,
      ],
      [
        (s) => s.eips.push({ id: "eip-y", publicIp: "198.51.100.98", target: { type: "vnic", vnicId: "eni-none" } }),
        /unknown target/,
      ],
      [(s) => (s.subnets[0]!.cidr = "10.1.0.0/24"), /is not inside vpc-a/],
      [(s) => (s.subnets[0]!.broadcast = "multicast" as never), /broadcast must be/],
      [(s) => (s.internet!.gateway = "192.0.2.1"), /gateway is not in/],
    ];
    for (const [mutate, pattern] of cases) {
      const problems = problemsOf(mutate);
      assert.ok(
        problems.some((p) => pattern.test(p)),
        `${pattern} in ${problems.join(" | ")}`,
      );
    }
  });

  it("restores the holder from the spec, and lets a newer generation in the spec win", () => {
    const spec = seedSpec();
    spec.havips[0]!.holderVnicId = VM.B.id;
    spec.havips[0]!.generation = 7;
    const r = compile(spec);
    assert.ok(r.ok);
    assert.equal(r.tables.havips.get(HAVIP.id)?.holder?.id, VM.B.id);
    const rt = r.runtimes.get(HAVIP.id)!;
    assert.equal(rt.generation, 7);
    // The fabric then sees vm-A announce (generation 8); a spec still saying generation 7 does not undo it.
    rt.holderVnicId = VM.A.id;
    rt.generation = 8;
    const again = compile(spec, r.runtimes);
    assert.ok(again.ok);
    assert.equal(again.tables.havips.get(HAVIP.id)?.holder?.id, VM.A.id);
    spec.havips[0]!.generation = 9;
    const newer = compile(spec, again.runtimes);
    assert.ok(newer.ok);
    assert.equal(newer.tables.havips.get(HAVIP.id)?.holder?.id, VM.B.id);
    assert.equal(newer.runtimes.get(HAVIP.id)?.generation, 9);
  });

  it("releases a holder that may no longer claim, and leaves the old state untouched when the compile fails", () => {
    const spec = seedSpec();
    const runtimes = new Map([[HAVIP.id, new HaVipRuntime(VM.A.id, 3, 0)]]);
    const bad = seedSpec();
    bad.havips[0]!.members = [VM.B.id];
    bad.vpcs[0]!.cidr = "nonsense";
    assert.equal(compile(bad, runtimes).ok, false);
    assert.equal(runtimes.get(HAVIP.id)?.holderVnicId, VM.A.id);
    spec.havips[0]!.members = [VM.B.id];
    const r = compile(spec, runtimes);
    assert.ok(r.ok);
    assert.deepEqual(r.released, [{ havipId: HAVIP.id, previousVnicId: VM.A.id, generation: 3 }]);
    assert.equal(r.tables.havips.get(HAVIP.id)?.holder, null);
  });
});

describe("spec state", () => {
  it("applies upserts and deletes and round-trips the spec", () => {
    const state = new SpecState(seedSpec());
    state.apply([
      { op: "delete", kind: "vnic", id: VM.C.id },
      { op: "upsert", kind: "vpc", value: { id: "vpc-c", cidr: "172.16.0.0/12" } },
      { op: "set-router-mac", routerMac: "02:00:00:00:00:02" },
      { op: "delete", kind: "eip", id: "eip-none" },
    ]);
    const out = state.toSpec();
    assert.equal(
      out.vnics.some((v) => v.id === VM.C.id),
      false,
    );
    assert.equal(out.vpcs.at(-1)?.id, "vpc-c");
    assert.equal(out.routerMac, "02:00:00:00:00:02");
    assert.deepEqual(new SpecState(out).toSpec(), out);
    assert.deepEqual(JSON.parse(JSON.stringify(out)), out, "JSON-serialisable");
  });
});
