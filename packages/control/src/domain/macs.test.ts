import assert from "node:assert/strict";
import { test } from "node:test";
import { HAVIP_MAC_PREFIX, VNIC_MAC_PREFIX, isLocallyAdministeredUnicast, randomMac } from "./macs.ts";

test("platform MACs are locally administered unicast with their prefix", () => {
  for (let i = 0; i < 200; i++) {
    const vnic = randomMac(VNIC_MAC_PREFIX);
    const havip = randomMac(HAVIP_MAC_PREFIX);
    assert.match(vnic, /^02(:[0-9a-f]{2}){5}$/);
    assert.match(havip, /^0e(:[0-9a-f]{2}){5}$/);
    assert.ok(isLocallyAdministeredUnicast(vnic));
    assert.ok(isLocallyAdministeredUnicast(havip));
  }
  assert.ok(!isLocallyAdministeredUnicast("00:11:22:33:44:55"), "universally administered");
  assert.ok(!isLocallyAdministeredUnicast("03:11:22:33:44:55"), "multicast");
  assert.ok(!isLocallyAdministeredUnicast("02:11:22:33:44"), "short");
});
