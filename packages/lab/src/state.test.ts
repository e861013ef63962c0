import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { isLabError } from "./errors.ts";
import { emptyState, readState, removeStateFile, StateStore, stateFile, writeState } from "./state.ts";
import type { LabState } from "./state.ts";

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "havip-state-"));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
const labState: fc.Arbitrary<LabState> = fc.record({
  version: fc.constant(1 as const),
  prefix: fc.constant("hvl-"),
  createdAt: fc.constant(new Date(0).toISOString()),
  namespaces: fc.array(fc.record({ name, role: fc.constantFrom("fabric" as const, "instance" as const) })),
  links: fc.array(fc.record({ namespace: name, name, kind: fc.constantFrom("veth" as const, "vxlan" as const) })),
  instances: fc.array(
    fc.record({
      name,
      namespace: name,
      vni: fc.integer({ min: 1, max: 2 ** 24 - 1 }),
      mac: fc.constant("02:00:00:00:00:01"),
      ip: fc.ipV4(),
      prefixLen: fc.integer({ min: 1, max: 32 }),
      gateway: fc.option(fc.ipV4(), { nil: null }),
      mtu: fc.integer({ min: 68, max: 9000 }),
    }),
  ),
  processes: fc.array(
    fc.record({
      id: name,
      label: name,
      namespace: name,
      command: fc.array(fc.string()),
      logFile: fc.string(),
      pid: fc.option(fc.nat(), { nil: null }),
      startTime: fc.option(fc.nat(), { nil: null }),
    }),
  ),
  files: fc.array(fc.string()),
});

test("state written is state read, and no temporary file is left", (t) => {
  const dir = tempDir(t);
  fc.assert(
    fc.property(labState, (state) => {
      writeState(dir, state);
      // fast-check's records have a null prototype; compare with the same data as plain objects.
      assert.deepEqual(readState(dir), JSON.parse(JSON.stringify(state)));
      assert.deepEqual(readdirSync(dir), ["lab-state.json"]);
    }),
    { numRuns: 50 },
  );
});

test("no state file reads as undefined; removing it twice is fine", (t) => {
  const dir = tempDir(t);
  assert.equal(readState(dir), undefined);
  writeState(dir, emptyState("hvl-"));
  removeStateFile(dir);
  removeStateFile(dir);
  assert.equal(readState(dir), undefined);
});

test("a corrupt or foreign state file is Lab.StateCorrupt", (t) => {
  const dir = tempDir(t);
  writeFileSync(stateFile(dir), "{ not json");
  assert.throws(
    () => readState(dir),
    (e: unknown) => isLabError(e, "Lab.StateCorrupt") && /not valid JSON/.test(e.message),
  );
  writeFileSync(stateFile(dir), JSON.stringify({ version: 2, prefix: "hvl-" }));
  assert.throws(
    () => readState(dir),
    (e: unknown) => isLabError(e, "Lab.StateCorrupt") && /expected shape/.test(e.message),
  );
});

test("StateStore writes every change through before returning, and a failed change writes nothing", (t) => {
  const dir = tempDir(t);
  const store = new StateStore(dir, emptyState("hvl-"));
  store.update((s) => s.namespaces.push({ name: "hvl-fabric", role: "fabric" }));
  assert.deepEqual(readState(dir)?.namespaces, [{ name: "hvl-fabric", role: "fabric" }]);
  assert.throws(() => {
    store.update((s) => {
      s.namespaces.push({ name: "hvl-half", role: "instance" });
      throw new Error("changed my mind");
    });
  });
  assert.equal(store.state.namespaces.length, 1);
  assert.equal(readState(dir)?.namespaces.length, 1);
});
