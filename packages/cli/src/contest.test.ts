import { test } from "node:test";
import assert from "node:assert/strict";
import type { ChangeEvent, HolderHistoryEntry } from "@havip/control";
import { contestedHavip, havip, page, vmA, vmB } from "./fixtures.ts";
import { connectionRefused, runWith, type Route } from "./testing.ts";

const other = { ...havip, id: "havip-00000000000000002", name: "web-vip", ipAddress: "10.0.1.60" };

function routeWith(havips: (typeof havip)[]): Route {
  return (r) => {
    if (r.method !== "GET") return undefined;
    if (r.path === "/v1/instances") return page([vmA, vmB]);
    const vm = [vmA, vmB].find((i) => r.path === `/v1/instances/${i.id}`);
    if (vm !== undefined) return { status: 200, body: vm };
    if (r.path === "/v1/havips") return page(havips);
    const one = havips.find((h) => r.path === `/v1/havips/${h.id}`);
    return one === undefined ? undefined : { status: 200, body: one };
  };
}

test("havip list marks a contested HAVIP in its status and explains the mark under the table", async () => {
  const result = await runWith(["havip", "list"], routeWith([contestedHavip, other]));
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.split("\n");
  assert.match(lines[1]!, /^havip-00000000000000001 +db-vip +10\.0\.1\.50 +in-use CONTESTED +vm-B /);
  assert.match(lines[2]!, /^havip-00000000000000002 +web-vip +10\.0\.1\.60 +in-use +vm-B /);
  assert.match(result.stdout, /\nCONTESTED: several instances hold the address at once \(split brain\): db-vip\.\n/);
  assert.match(result.stdout, /docs\/guides\/split-brain\.md/);
  const calm = await runWith(["havip", "list"], routeWith([havip]));
  assert.doesNotMatch(calm.stdout, /CONTESTED/);
});

test("havip show puts a block naming the claimants above the details while contested", async () => {
  const result = await runWith(["havip", "show", "db-vip"], routeWith([contestedHavip]));
  assert.equal(result.code, 0, result.stderr);
  const [rule, headline, first, second, meaning, advice, end] = result.stdout.split("\n");
  assert.match(rule!, /^!{78}$/);
  assert.equal(headline, "! CONTESTED since 2025-01-02T03:05:00Z: 2 instances hold 10.0.1.50 at once (split brain)");
  assert.equal(first, `!   vm-A (${vmA.id}), vNIC ${vmA.primaryVnicId}`);
  assert.equal(second, `!   vm-B (${vmB.id}), vNIC ${vmB.primaryVnicId} — the holder the fabric keeps`);
  assert.match(meaning!, /^! The fabric keeps the holder and ignores the others' announcements/);
  assert.match(advice!, /^! Make all but one release the address .*: docs\/guides\/split-brain\.md$/);
  assert.match(end!, /^!{78}$/);
  assert.match(result.stdout, /^contested +since 2025-01-02T03:05:00Z: vm-A, vm-B$/m);
  const calm = await runWith(["havip", "show", "db-vip"], routeWith([havip]));
  assert.doesNotMatch(calm.stdout, /!!!|CONTESTED/);
  assert.match(calm.stdout, /^contested +no$/m);
});

test("names fall back to instance ids when the instance list cannot be read", async () => {
  const result = await runWith(["havip", "show", contestedHavip.id], (r) =>
    r.path === `/v1/havips/${havip.id}` ? { status: 200, body: contestedHavip } : undefined,
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, new RegExp(`^!   ${vmA.id}, vNIC ${vmA.primaryVnicId}$`, "m"));
});

test("--json passes the contested field through, and looks no names up", async () => {
  const shown = await runWith(["havip", "show", "db-vip", "--json"], routeWith([contestedHavip]));
  assert.deepEqual((JSON.parse(shown.stdout) as typeof havip).contested, contestedHavip.contested);
  assert.ok(!shown.requests.some((r) => r.path === "/v1/instances"));
  const listed = await runWith(["havip", "list", "--json"], routeWith([contestedHavip]));
  assert.deepEqual(JSON.parse(listed.stdout), { items: [contestedHavip], nextCursor: null });
});

test("history prints the verification reasons as the API gives them", async () => {
  const entry = (generation: number, reason: HolderHistoryEntry["reason"], vm: typeof vmA | null) => ({
    generation,
    instanceId: vm?.id ?? null,
    vnicId: vm?.primaryVnicId ?? null,
    previousVnicId: null,
    at: "2025-01-02T03:04:05.678Z",
    reason,
  });
  const items = [entry(1, "announcement", vmA), entry(2, "verified", vmB), entry(3, "withdrawn", null)];
  const result = await runWith(["havip", "history", "db-vip"], (r) =>
    r.path === `/v1/havips/${havip.id}/history` ? page([...items, entry(4, "manual", vmA)]) : routeWith([havip])(r),
  );
  assert.equal(result.code, 0, result.stderr);
  const reasons = result.stdout
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => line.split(/ +/)[2]);
  assert.deepEqual(reasons, ["announcement", "verified", "withdrawn", "manual"]);
  assert.match(result.stdout, /^3 +2025-01-02T03:04:05Z +withdrawn +- +- +-$/m);
  assert.match(result.stdout, /^2 +2025-01-02T03:04:05Z +verified +vm-B +eni-0000000000000000b +-$/m);
});

function havipEvent(revision: number, action: ChangeEvent["action"], data: typeof havip): ChangeEvent {
  return {
    revision,
    at: "2025-01-02T03:05:00.123Z",
    projectId: "proj-1",
    resource: "havip",
    id: data.id,
    action,
    data,
  };
}

test("events --follow prints contest events with the claimants' names, aligned under the header", async () => {
  const stop = new AbortController();
  const events = [
    havipEvent(7, "contest-started", contestedHavip),
    havipEvent(8, "holder-changed", { ...havip, holder: { ...havip.holder!, instanceId: vmA.id }, generation: 3 }),
    havipEvent(9, "contest-ended", havip),
  ];
  const frames = events.map((e) => `id: ${e.revision}\nevent: ${e.action}\ndata: ${JSON.stringify(e)}\n\n`);
  const result = await runWith(
    ["events", "--follow"],
    (r) => {
      if (r.path === "/v1/instances") return page([vmA, vmB]);
      if (r.path !== "/v1/events") return undefined;
      if (r.headers["last-event-id"] === "9") {
        stop.abort();
        return connectionRefused();
      }
      return { stream: frames };
    },
    { signal: stop.signal },
  );
  assert.equal(result.code, 0, result.stderr);
  const [header, started, changed, ended] = result.stdout.split("\n");
  assert.match(
    started!,
    / contest-started +havip +havip-00000000000000001 +proj-1 +CONTESTED: vm-A, vm-B hold 10\.0\.1\.50 \(split brain\)$/,
  );
  assert.match(changed!, / holder-changed +havip .* holder vm-A, generation 3$/);
  assert.match(ended!, / contest-ended +havip .* no longer contested; holder vm-B$/);
  for (const column of ["ACTION", "RESOURCE", "ID", "PROJECT", "DETAIL"]) {
    const at = header!.indexOf(` ${column}`) + 1;
    for (const line of [started!, changed!, ended!]) {
      assert.equal(line[at - 1], " ", `${column} starts at the same offset`);
      assert.notEqual(line[at], " ", `${column} starts at the same offset`);
    }
  }
  assert.equal(result.requests.filter((r) => r.path === "/v1/instances").length, 1, "names looked up once");
});

test("events (a page) adds DETAIL only when a HAVIP event has something to say", async () => {
  const items = [havipEvent(1, "contest-started", contestedHavip)];
  const result = await runWith(["events"], (r) => {
    if (r.path === "/v1/instances") return page([vmA, vmB]);
    if (r.path !== "/v1/events") return undefined;
    return { status: 200, body: { items: r.query.since === "0" ? items : [], lastRevision: 1, more: false } };
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^REVISION +AT +ACTION +RESOURCE +ID +PROJECT +DETAIL\n/);
  assert.match(result.stdout, /contest-started +havip .* CONTESTED: vm-A, vm-B hold 10\.0\.1\.50 \(split brain\)\n$/);
});

test("observe says what the fabric's verification found, and when it corrected the report", async () => {
  const observe = (verification: unknown, after = havip) =>
    runWith(["observe", "db-vip", "vm-A"], (r) =>
      r.method === "POST" && r.path === "/v1/observations"
        ? { status: 200, body: { changed: true, havip: after, verification } }
        : routeWith([havip])(r),
    );
  const a = `vm-A (${vmA.primaryVnicId})`;
  const b = `vm-B (${vmB.primaryVnicId})`;
  const moved = await observe(
    { outcome: "moved", holderVnicId: vmB.primaryVnicId, generation: 4, answered: [vmB.primaryVnicId] },
    { ...havip, generation: 4 },
  );
  assert.equal(moved.code, 0, moved.stderr);
  assert.equal(
    moved.stdout,
    `${a} reported as the holder of db-vip (10.0.1.50)\n` +
      `corrected by verification: ${b} has the address and holds it now, generation 4\n` +
      `holder now: ${b}, generation 4\n`,
  );
  const confirmed = await observe(
    { outcome: "confirmed", holderVnicId: vmA.primaryVnicId, generation: 3, answered: [vmA.primaryVnicId] },
    { ...havip, holder: { ...havip.holder!, instanceId: vmA.id, vnicId: vmA.primaryVnicId }, generation: 3 },
  );
  assert.match(
    confirmed.stdout,
    new RegExp(`^verified: vm-A \\(${vmA.primaryVnicId}\\) answers for the address$`, "m"),
  );
  const torn = await observe({
    outcome: "contested",
    holderVnicId: vmB.primaryVnicId,
    generation: 2,
    answered: [vmA.primaryVnicId, vmB.primaryVnicId],
  });
  assert.match(torn.stdout, /^CONTESTED: vm-A \(.*\), vm-B \(.*\) all answer for the address \(split brain\); vm-B/m);
  const late = await observe(null);
  assert.match(late.stdout, /^not verified: the fabric did not answer in time; the report stands$/m);
  const json = await runWith(["observe", "db-vip", "vm-A", "--json"], (r) =>
    r.method === "POST" ? { status: 200, body: { changed: true, havip, verification: null } } : routeWith([havip])(r),
  );
  assert.deepEqual(JSON.parse(json.stdout), { changed: true, havip, verification: null });
});
