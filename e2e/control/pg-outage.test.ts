// havipd on PostgreSQL while PostgreSQL crashes and stays away for 10 s under a stream of API writes:
// havipd never exits; every call during the outage is answered 503 ServiceUnavailable.Store (a JSON body
// with the code; no 500, no stack trace); writes succeed again within seconds of PostgreSQL's return,
// without restarting havipd; and every write that was acknowledged (2xx) is there afterwards.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Instance, Project, Subnet, Vpc } from "@havip/control";
import { api, hasStackTrace, OPERATOR_TOKEN, startHavipd, tempDir, type Havipd } from "./harness.ts";
import { needsPostgresServer, startPostgres } from "./pg-server.ts";

const OUTAGE_MS = 10_000;
/** Writes must succeed again this soon after PostgreSQL accepts connections. */
const RECOVERY_MS = 5_000;
const WRITERS = 3;

interface Tally {
  acknowledged: Instance[];
  /** Answers other than 201, by status and code. */
  refused: Map<string, number>;
  /** A body that was not the catalogue's error shape, or carried a stack trace. */
  malformed: string[];
  /** Requests whose connection failed (outcome unknown: not counted as acknowledged). */
  cut: number;
  /** When each 201 arrived (Date.now()). */
  ackTimes: number[];
}

async function writer(
  daemon: Havipd,
  token: string,
  subnetId: string,
  label: string,
  tally: Tally,
  stop: () => boolean,
) {
  for (let n = 0; !stop(); n++) {
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${daemon.url}/v1/instances`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "idempotency-key": `${label}-${n}`,
        },
        body: JSON.stringify({ subnetId, name: `${label}-${n}` }),
      });
      text = await response.text();
    } catch {
      tally.cut++;
      await new Promise((r) => setTimeout(r, 20));
      continue;
    }
    if (response.status === 201) {
      tally.acknowledged.push(JSON.parse(text) as Instance);
      tally.ackTimes.push(Date.now());
    } else {
      let code = "?";
      try {
        code = (JSON.parse(text) as { error: { code: string } }).error.code;
      } catch {
        tally.malformed.push(text);
      }
      if (hasStackTrace(text)) tally.malformed.push(text);
      const key = `${response.status} ${code}`;
      tally.refused.set(key, (tally.refused.get(key) ?? 0) + 1);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

test(
  "PostgreSQL down for 10 s under writes: havipd stays up, answers 503, recovers, loses nothing acknowledged",
  { ...needsPostgresServer("pg-outage"), timeout: 120_000 },
  async (t) => {
    const pg = await startPostgres(t);
    const dataDir = await tempDir(t, "havip-pg-outage-");
    const daemon = await startHavipd(t, { dataDir, args: ["--database", `${pg.url}?schema=outage`] });
    let exited = false;
    void daemon.exited.then(() => (exited = true));

    const project = await api<Project & { token: string }>(daemon.url, OPERATOR_TOKEN, "POST", "/v1/projects", {
      name: "outage",
    });
    assert.equal(project.status, 201);
    const token = project.body.token;
    const vpc = await api<Vpc>(daemon.url, token, "POST", "/v1/vpcs", {
      name: "v",
      cidr: "10.0.0.0/16",
      region: "region-1",
    });
    assert.equal(vpc.status, 201);
    const subnet = await api<Subnet>(daemon.url, token, "POST", "/v1/subnets", {
      vpcId: vpc.body.id,
      name: "s",
      cidr: "10.0.0.0/20",
      zone: "zone-a",
    });
    assert.equal(subnet.status, 201);

    const tally: Tally = { acknowledged: [], refused: new Map(), malformed: [], cut: 0, ackTimes: [] };
    let stopping = false;
    const writers = Promise.all(
      Array.from({ length: WRITERS }, (_, i) => writer(daemon, token, subnet.body.id, `w${i}`, tally, () => stopping)),
    );
    const healthDuringOutage: number[] = [];
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const ackedBefore = tally.acknowledged.length;
      assert.ok(ackedBefore > 0, "writes were acknowledged before the outage");

      await pg.stop("immediate");
      const down = Date.now();
      while (Date.now() - down < OUTAGE_MS) {
        const health = await fetch(`${daemon.url}/v1/health`);
        healthDuringOutage.push(health.status);
        await health.text();
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.equal(exited, false, `havipd exited during the outage:\n${daemon.stderr()}`);
      await pg.start();
      const up = Date.now();
      const ackedAtReturn = tally.acknowledged.length;
      while (tally.acknowledged.length === ackedAtReturn) {
        assert.ok(
          Date.now() - up < RECOVERY_MS,
          `no write succeeded within ${RECOVERY_MS} ms of PostgreSQL's return; refused: ${JSON.stringify([...tally.refused])}`,
        );
        await new Promise((r) => setTimeout(r, 20));
      }
      const recoveredMs = (tally.ackTimes[ackedAtReturn] ?? Date.now()) - up;
      t.diagnostic(`first acknowledged write ${recoveredMs} ms after PostgreSQL accepted connections again`);
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      stopping = true;
      await writers;
    }

    assert.equal(exited, false, `havipd exited:\n${daemon.stderr()}`);
    assert.deepEqual(tally.malformed, [], "every refusal is the catalogue's JSON error, without a stack trace");
    const refusedCodes = [...tally.refused.keys()];
    assert.deepEqual(refusedCodes, ["503 ServiceUnavailable.Store"], `refusals: ${JSON.stringify([...tally.refused])}`);
    assert.ok(
      healthDuringOutage.length > 0 && healthDuringOutage.every((s) => s === 503),
      healthDuringOutage.join(" "),
    );
    t.diagnostic(
      `acknowledged ${tally.acknowledged.length}, refused 503 ${tally.refused.get("503 ServiceUnavailable.Store")}, connections cut ${tally.cut}`,
    );

    // Every acknowledged write is there (0 lost), read back through the API after the outage.
    const health = await api<{ status: string; store: string }>(daemon.url, OPERATOR_TOKEN, "GET", "/v1/health");
    assert.equal(health.status, 200);
    assert.equal(health.body.store, "up");
    const listed = new Set<string>();
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
      const page = await api<{ items: Instance[]; nextCursor: string | null }>(
        daemon.url,
        token,
        "GET",
        `/v1/instances?limit=1000${query}`,
      );
      assert.equal(page.status, 200);
      for (const instance of page.body.items) listed.add(instance.id);
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    const lost = tally.acknowledged.filter((i) => !listed.has(i.id));
    assert.deepEqual(lost, [], `${lost.length} acknowledged writes lost`);

    // The operator's log says when the database went away and when havipd had it back (its change
    // notifications listening again: at most a second after the database returned).
    const messages = () =>
      daemon
        .stdout()
        .split("\n")
        .filter((line) => line.includes('"database connection'))
        .map((line) => (JSON.parse(line) as { msg: string }).msg);
    for (const deadline = Date.now() + 5000; messages().length < 2 && Date.now() < deadline;)
      await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(messages(), ["database connection lost; reconnecting", "database connection restored"]);
    const stopped = await daemon.stop();
    assert.equal(stopped.code, 0, daemon.stderr());
  },
);
