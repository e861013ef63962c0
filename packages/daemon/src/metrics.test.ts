// GET /metrics on a live havipd: the fabric's counters move when it drops a spoofed frame and when a holder
// changes, the announcement-to-repoint histogram counts the changes, and the API latency histogram is labelled
// by route template and status. Both with the fabric in-process and in an agent (its `counters` op).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { udpFrame } from "@havip/testkit";
import { DaemonMetrics } from "./metrics.ts";
import { client, parseExposition, sampleValue, until, world, type Mode, type Sample } from "./test-support.ts";

describe("parseExposition", () => {
  it("reads names, escaped labels and special values, and refuses what is not a sample", () => {
    const samples = parseExposition(
      [
        "# HELP x_total A thing.",
        "# TYPE x_total counter",
        'x_total{a="1",b="q\\"uote\\\\"} 3',
        'h_bucket{le="+Inf"} 7',
        "g -Inf",
        "",
      ].join("\n"),
    );
    assert.deepEqual(samples, [
      { name: "x_total", labels: { a: "1", b: 'q"uote\\' }, value: 3 },
      { name: "h_bucket", labels: { le: "+Inf" }, value: 7 },
      { name: "g", labels: {}, value: -Infinity },
    ]);
    assert.throws(() => parseExposition("not a sample line at all"));
    assert.throws(() => sampleValue(samples.concat(samples), "x_total"));
  });
});

describe("havip_fabric_agent_restarts_total", () => {
  it("is 0 until havipd's supervisor replaces the agent, then counts each replacement", async () => {
    const metrics = new DaemonMetrics();
    const value = async () =>
      sampleValue(parseExposition((await metrics.exposition()).body), "havip_fabric_agent_restarts_total");
    assert.equal(await value(), 0);
    metrics.fabricAgentRestarted();
    metrics.fabricAgentRestarted();
    assert.equal(await value(), 2);
  });
});

async function scenario(mode: Mode): Promise<void> {
  const w = await world(mode);
  try {
    const scrape = async (): Promise<Sample[]> => {
      const r = await w.op("GET", "/metrics");
      assert.equal(r.status, 200, r.text());
      assert.match(r.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      return parseExposition(r.text());
    };
    // The operator token only.
    assert.equal((await client(w.daemon.url, null)("GET", "/metrics")).status, 401);
    assert.equal((await w.api("GET", "/metrics")).status, 403);

    const havip = { havip: w.havip.id };
    const aPort = { port: w.a.primaryVnicId };
    const before = await scrape();
    const drops = (s: Sample[]) => sampleValue(s, "havip_fabric_drops_total", { reason: "spoofed-source-mac" });
    const changes = (s: Sample[]) => sampleValue(s, "havip_havip_holder_changes_total", havip);
    const latencyCount = (s: Sample[]) => sampleValue(s, "havip_fabric_announce_to_repoint_seconds_count");
    const rx = (s: Sample[]) => sampleValue(s, "havip_fabric_port_rx_frames_total", aPort);

    // vm-A sends from a MAC that is not its own: dropped and counted.
    const av = w.a.vnics[0]!;
    w.send(
      w.a,
      udpFrame({
        srcMac: "02:00:00:00:99:99",
        dstMac: w.b.vnics[0]!.macAddress,
        src: av.ipAddress,
        dst: "10.0.1.12",
        srcPort: 1,
        dstPort: 2,
      }),
    );
    const afterSpoof = await until("the spoofed frame counted", async () => {
      const s = await scrape();
      return drops(s) > drops(before) ? s : undefined;
    });
    assert.equal(drops(afterSpoof) - drops(before), 1);
    assert.equal(rx(afterSpoof) - rx(before), 1);
    assert.equal(changes(afterSpoof), changes(before));

    // vm-A, then vm-B announce: two holder changes, two latencies; vm-A's refresh is a claim, not a change.
    w.garp(w.a);
    await until("vm-A holds", async () =>
      (await scrape()).length > 0 && changes(await scrape()) === 1 ? true : undefined,
    );
    w.garp(w.a);
    w.garp(w.b);
    const after = await until("vm-B holds", async () => {
      const s = await scrape();
      return changes(s) === 2 && sampleValue(s, "havip_havip_claims_total", havip) === 3 ? s : undefined;
    });
    assert.equal(changes(after) - changes(before), 2);
    assert.equal(latencyCount(after) - latencyCount(before), 2);
    assert.equal(sampleValue(after, "havip_havip_generation", havip), 2);
    assert.equal(sampleValue(after, "havip_havip_held", havip), 1);
    const inf = sampleValue(after, "havip_fabric_announce_to_repoint_seconds_bucket", { le: "+Inf" });
    assert.equal(inf, latencyCount(after));
    const sum = sampleValue(after, "havip_fabric_announce_to_repoint_seconds_sum");
    assert.ok(sum > 0 && sum < 1, `latency sum ${sum} s`);
    assert.ok(sampleValue(after, "havip_fabric_vxlan_total", { kind: "rx_datagrams" }) >= 4);

    // The API's latency, by route template (never the raw URL) and status.
    await w.api("GET", `/v1/havips/${w.havip.id}`);
    await w.api("GET", "/v1/no-such-route/123");
    const api = await scrape();
    const requests = (route: string, status: string) =>
      api
        .filter((s) => s.name === "havip_api_request_duration_seconds_count")
        .filter((s) => s.labels.route === route && s.labels.status === status)
        .reduce((n, s) => n + s.value, 0);
    assert.ok(requests("/v1/havips/:id", "200") >= 1);
    assert.ok(requests("/metrics", "200") >= 3);
    assert.ok(requests("/metrics", "401") === 1 && requests("/metrics", "403") === 1);
    assert.ok(requests("unmatched", "404") >= 1);
    assert.ok(!api.some((s) => s.labels.route?.includes(w.havip.id) === true), "no raw URL in a route label");
    console.log(
      `ℹ ${mode}: announcement-to-repoint mean ${((sum / latencyCount(after)) * 1e6).toFixed(1)} µs (under load)`,
    );
  } finally {
    await w.close();
  }
}

describe("GET /metrics", () => {
  it("in-process fabric: counters move on a spoofed frame and on holder changes", () => scenario("in-process"));
  it("fabric agent: the same, read with the agent's counters op", () => scenario("agent"));
  it("with the agent gone, a scrape still answers: API metrics, no fabric series, havip_fabric_up 0", async () => {
    const w = await world("agent");
    try {
      const scrape = async () => {
        const r = await w.op("GET", "/metrics");
        assert.equal(r.status, 200, r.text());
        return parseExposition(r.text());
      };
      w.garp(w.a);
      await until("the holder change counted", async () => {
        const s = await scrape();
        return sampleValue(s, "havip_havip_holder_changes_total", { havip: w.havip.id }) === 1 ? true : undefined;
      });
      assert.equal(sampleValue(await scrape(), "havip_fabric_up"), 1);
      await w.stopAgent();
      const s = await scrape();
      assert.equal(sampleValue(s, "havip_fabric_up"), 0);
      assert.ok(!s.some((x) => x.name.startsWith("havip_havip_") || x.name.startsWith("havip_fabric_drops")), "stale");
      assert.equal(sampleValue(s, "havip_fabric_announce_to_repoint_seconds_count"), 0);
      assert.ok(
        s.some((x) => x.name === "havip_api_request_duration_seconds_count"),
        "the API's metrics are served",
      );
    } finally {
      await w.close();
    }
  });
  it("each daemon has its own registry", async () => {
    const [one, two] = [await world("in-process"), await world("in-process")];
    try {
      one.garp(one.a);
      await until("holder on one", async () => {
        const s = parseExposition((await one.op("GET", "/metrics")).text());
        return sampleValue(s, "havip_havip_holder_changes_total", { havip: one.havip.id }) === 1 ? true : undefined;
      });
      const other = parseExposition((await two.op("GET", "/metrics")).text());
      assert.equal(sampleValue(other, "havip_havip_holder_changes_total", { havip: one.havip.id }), 0);
      assert.equal(sampleValue(other, "havip_fabric_announce_to_repoint_seconds_count"), 0);
    } finally {
      await one.close();
      await two.close();
    }
  });
});
