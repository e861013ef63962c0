// The keepalived configuration generator against the real keepalived: every configuration the generator
// accepts, keepalived's own checker (`keepalived -t`) accepts too, with no unknown keyword.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { findProgram, renderKeepalivedConfig } from "@havip/lab";
import type { KeepalivedConfig, VrrpInstance } from "@havip/lab";
import { removeDir, rootOnly, tempStateDir } from "./helpers.ts";

const ipv4 = fc
  .tuple(fc.integer({ min: 1, max: 223 }), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 }))
  .map((o) => o.join("."));

const instance: fc.Arbitrary<VrrpInstance> = fc
  .record({
    version: fc.constantFrom(2 as const, 3 as const),
    virtualRouterId: fc.integer({ min: 1, max: 255 }),
    priority: fc.integer({ min: 1, max: 254 }),
    seconds: fc.integer({ min: 1, max: 255 }),
    centiseconds: fc.integer({ min: 1, max: 4095 }),
    state: fc.constantFrom("MASTER" as const, "BACKUP" as const),
    nopreempt: fc.boolean(),
    unicast: fc.option(fc.record({ sourceIp: ipv4, peers: fc.uniqueArray(ipv4, { minLength: 1, maxLength: 3 }) }), {
      nil: undefined,
    }),
    vips: fc.uniqueArray(fc.record({ address: ipv4, prefixLen: fc.integer({ min: 8, max: 32 }) }), {
      minLength: 1,
      maxLength: 3,
      selector: (v) => v.address,
    }),
    garpMasterDelay: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
    garpMasterRefresh: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
    authPass: fc.option(fc.stringMatching(/^[a-zA-Z0-9]{1,8}$/), { nil: undefined }),
  })
  .map((r) => ({
    name: "VI_1",
    version: r.version,
    virtualRouterId: r.virtualRouterId,
    priority: r.priority,
    advertInterval: r.version === 2 ? r.seconds : r.centiseconds / 100,
    state: r.nopreempt ? "BACKUP" : r.state,
    nopreempt: r.nopreempt,
    unicast:
      r.unicast === undefined
        ? undefined
        : { sourceIp: r.unicast.sourceIp, peers: r.unicast.peers.filter((p) => p !== r.unicast?.sourceIp) },
    virtualAddresses: r.vips,
    garpMasterDelay: r.garpMasterDelay,
    garpMasterRefresh: r.garpMasterRefresh,
    authPass: r.version === 2 ? r.authPass : undefined,
  }))
  .filter((vi) => vi.unicast === undefined || vi.unicast.peers.length > 0);

test("keepalived accepts every configuration the generator renders", rootOnly("keepalived config suite"), (t) => {
  const keepalived = findProgram("keepalived");
  assert.ok(keepalived !== undefined, "keepalived is installed (apt-get install -y keepalived)");
  const dir = tempStateDir("kaconf");
  t.after(() => {
    removeDir(dir);
  });
  const file = join(dir, "keepalived.conf");
  fc.assert(
    fc.property(instance, (vi) => {
      const config: KeepalivedConfig = { routerId: "lab-test", instances: [vi] };
      writeFileSync(file, renderKeepalivedConfig(config));
      const check = spawnSync(keepalived, ["-t", "-f", file], { encoding: "utf8" });
      const said = check.stderr + check.stdout;
      assert.equal(check.status, 0, `keepalived -t rejected:\n${renderKeepalivedConfig(config)}\n${said}`);
      assert.doesNotMatch(said, /Unknown keyword|invalid|ignoring/i);
    }),
    { numRuns: 60 },
  );
});
