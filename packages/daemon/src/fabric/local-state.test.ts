import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  attachmentConflict,
  emptyLocalState,
  loadLocalState,
  saveLocalState,
  type FabricLocalState,
} from "./local-state.ts";

const underlay = { remoteAddress: "169.254.77.2", remotePort: 4789 };

function recorded(): FabricLocalState {
  return {
    attachments: {
      "eni-a": { ...underlay, vni: 5001 },
      "eni-b": { kind: "veth", interface: "vt5002" },
    },
    internet: {
      ...underlay,
      vni: 5004,
      ip: "203.0.113.1",
      cidr: "203.0.113.0/24",
      gateway: null,
      mac: "02:00:00:00:ff:01",
    },
  };
}

test("an attachment on another vNIC's VXLAN endpoint or veth interface names that vNIC", () => {
  const state = recorded();
  assert.match(
    attachmentConflict(state, "eni-c", { ...underlay, vni: 5001 }) ?? "",
    /^VNI 5001 from 169\.254\.77\.2:4789 is already the attachment of vNIC eni-a \(DELETE \/v1\/fabric\/attachments\/eni-a/,
  );
  assert.match(
    attachmentConflict(state, "eni-c", { kind: "veth", interface: "vt5002" }) ?? "",
    /^interface vt5002 is already the attachment of vNIC eni-b/,
  );
});

test("an attachment on the internet edge's endpoint says so (the clash of a VNI handed out again)", () => {
  assert.match(
    attachmentConflict(recorded(), "eni-a", { ...underlay, vni: 5004 }) ?? "",
    /^VNI 5004 from 169\.254\.77\.2:4789 is already the internet edge's/,
  );
});

test("the vNIC's own attachment again, another VNI, port or peer is no conflict", () => {
  const state = recorded();
  assert.equal(attachmentConflict(state, "eni-a", { ...underlay, vni: 5001 }), null, "the same again");
  assert.equal(attachmentConflict(state, "eni-c", { ...underlay, vni: 5003 }), null);
  assert.equal(attachmentConflict(state, "eni-c", { ...underlay, remotePort: 4790, vni: 5001 }), null);
  assert.equal(attachmentConflict(state, "eni-c", { remoteAddress: "192.0.2.1", remotePort: 4789, vni: 5001 }), null);
  assert.equal(attachmentConflict(state, "eni-c", { kind: "veth", interface: "vt5001" }), null);
  assert.equal(attachmentConflict(emptyLocalState(), "eni-c", { ...underlay, vni: 5001 }), null);
});

test("the state survives a save and load; no file reads as empty", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "havip-local-state-"));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  assert.deepEqual(await loadLocalState(dir), emptyLocalState());
  await saveLocalState(dir, recorded());
  assert.deepEqual(await loadLocalState(dir), recorded());
});
