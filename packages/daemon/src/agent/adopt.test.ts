// The adopt-or-start decision: adopt only the one agent that answers; replace anything else, naming why.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { adoptOrStart } from "./adopt.ts";

const ONE = { pid: 4242, startTime: 77 };

describe("adoptOrStart", () => {
  it("adopts the one running agent whose socket answers hello", async () => {
    const d = await adoptOrStart([ONE], () => Promise.resolve("connection"));
    assert.deepEqual(d, { action: "adopt", agent: ONE, connection: "connection" });
  });

  it("starts a fresh one when none runs, without saying hello to a socket nobody serves", async () => {
    let asked = false;
    const d = await adoptOrStart([], () => {
      asked = true;
      return Promise.resolve("x");
    });
    assert.deepEqual(d, { action: "start", reason: "no fabric agent was running", stale: [] });
    assert.equal(asked, false);
  });

  it("replaces an agent whose socket is dead, hung or of another version, naming why", async () => {
    for (const why of [
      "connect ECONNREFUSED",
      "the fabric agent did not answer hello within 2000 ms",
      "protocol version 5 is not 4",
    ]) {
      const d = await adoptOrStart([ONE], () => Promise.reject(new Error(why)));
      assert.ok(d.action === "start", JSON.stringify(d));
      assert.ok(d.reason.includes(why) && d.reason.includes("pid 4242"), d.reason);
      assert.deepEqual(d.stale, [ONE]);
    }
  });

  it("replaces several agents on one socket: which one listens is anyone's guess", async () => {
    const two = [ONE, { pid: 4343, startTime: 80 }];
    const d = await adoptOrStart(two, () => Promise.resolve("x"));
    assert.deepEqual(d, {
      action: "start",
      reason: "several fabric agents were running on the socket (pids 4242, 4343)",
      stale: two,
    });
  });
});
