import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { havip, instance, page, subnet, vmA, vmB, vpc } from "./fixtures.ts";
import { apiError, connectionRefused, runWith, type RecordedRequest, type Route } from "./testing.ts";

/** Routes the reads every test needs: lists and gets of the fixtures. */
const reads: Route = (r) => {
  if (r.method !== "GET") return undefined;
  switch (r.path) {
    case "/v1/vpcs":
      return page([vpc]);
    case "/v1/subnets":
      return page([subnet]);
    case "/v1/instances":
      return page([vmA, vmB]);
    case "/v1/havips":
      return page([havip]);
    case `/v1/havips/${havip.id}`:
      return { status: 200, body: havip };
    case `/v1/instances/${vmA.id}`:
      return { status: 200, body: vmA };
    default:
      return undefined;
  }
};

function only(requests: RecordedRequest[], method: string): RecordedRequest {
  const matching = requests.filter((r) => r.method === method);
  assert.equal(matching.length, 1, `one ${method} request expected`);
  return matching[0]!;
}

test("creates send the body, the token and a fresh Idempotency-Key; names resolve to ids", async () => {
  const result = await runWith(
    [
      "havip",
      "create",
      "--subnet",
      "web",
      "--ip",
      "10.0.1.50",
      "--name",
      "db-vip",
      "--member",
      "vm-A",
      "--member",
      "eni-x",
      "--token",
      "t0k",
    ],
    (r) => (r.method === "POST" && r.path === "/v1/havips" ? { status: 201, body: havip } : reads(r)),
  );
  assert.equal(result.code, 0, result.stderr);
  const post = only(result.requests, "POST");
  assert.deepEqual(post.body, {
    subnetId: subnet.id,
    ipAddress: "10.0.1.50",
    name: "db-vip",
    members: [vmA.id, "eni-x"],
  });
  assert.equal(post.headers.authorization, "Bearer t0k");
  assert.equal(post.headers["idempotency-key"], "key-1");
  assert.equal(post.headers["content-type"], "application/json");
  assert.match(result.stdout, /^address +10\.0\.1\.50$/m);
  assert.match(
    result.stdout,
    /^holder +vm-B \(i-0000000000000000b\), vNIC eni-0000000000000000b, since 2025-01-02T03:04:05Z$/m,
  );
});

test("--idempotency-key makes a repeated command send the same key", async () => {
  const result = await runWith(
    ["vpc", "create", "--cidr", "10.0.0.0/16", "--region", "r", "--idempotency-key", "mine"],
    (r) => (r.method === "POST" ? { status: 201, body: vpc } : undefined),
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(only(result.requests, "POST").headers["idempotency-key"], "mine");
});

test("vpc create --mtu sends the MTU; show and list print it", async () => {
  const jumbo = { ...vpc, mtu: 8950 };
  const created = await runWith(["vpc", "create", "--cidr", "10.0.0.0/16", "--region", "r", "--mtu", "8950"], (r) =>
    r.method === "POST" ? { status: 201, body: jumbo } : undefined,
  );
  assert.equal(created.code, 0, created.stderr);
  assert.deepEqual(only(created.requests, "POST").body, { cidr: "10.0.0.0/16", region: "r", mtu: 8950 });
  assert.match(created.stdout, /^mtu +8950$/m);
  const plain = await runWith(["vpc", "create", "--cidr", "10.0.0.0/16", "--region", "r"], (r) =>
    r.method === "POST" ? { status: 201, body: vpc } : undefined,
  );
  assert.deepEqual(only(plain.requests, "POST").body, { cidr: "10.0.0.0/16", region: "r" }, "the API's default");
  const listed = await runWith(["vpc", "list"], (r) => (r.path === "/v1/vpcs" ? page([jumbo]) : undefined));
  assert.match(listed.stdout, /^ID +NAME +CIDR +REGION +MTU +CREATED$/m);
  assert.match(listed.stdout, / 8950 /);
});

test("havip list prints aligned columns with the holder's name and the EIP", async () => {
  const result = await runWith(["havip", "list"], reads);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stdout,
    "ID                       NAME    ADDRESS    STATUS  HOLDER  GENERATION  EIP\n" +
      "havip-00000000000000001  db-vip  10.0.1.50  in-use  vm-B    2           198.51.100.7\n",
  );
});

test("--json prints the API's JSON; lists keep the page shape", async () => {
  const shown = await runWith(["havip", "show", "db-vip", "--json"], reads);
  assert.equal(shown.code, 0, shown.stderr);
  assert.deepEqual(JSON.parse(shown.stdout), havip);
  const listed = await runWith(["--json", "vpc", "list"], reads);
  assert.deepEqual(JSON.parse(listed.stdout), { items: [vpc], nextCursor: null });
});

test("lists follow every page by default; --limit asks for one page and mentions the next cursor", async () => {
  const route: Route = (r) => {
    if (r.path !== "/v1/vpcs") return undefined;
    return r.query.cursor === undefined ? page([vpc], "c2") : page([{ ...vpc, id: "vpc-2", name: "second" }]);
  };
  const all = await runWith(["vpc", "list"], route);
  assert.equal(all.requests.length, 2);
  assert.equal(all.requests[0]!.query.limit, "1000");
  assert.equal(all.requests[1]!.query.cursor, "c2");
  assert.equal(all.stdout.trimEnd().split("\n").length, 3);
  const one = await runWith(["vpc", "list", "--limit", "1"], route);
  assert.equal(one.requests.length, 1);
  assert.equal(one.requests[0]!.query.limit, "1");
  assert.match(one.stderr, /more: add --cursor c2/);
});

test("observe maps an instance to its vNIC in the HAVIP's subnet", async () => {
  const result = await runWith(["observe", "db-vip", "vm-A"], (r) =>
    r.method === "POST" && r.path === "/v1/observations"
      ? { status: 200, body: { changed: true, havip: { ...havip, generation: 3 } } }
      : reads(r),
  );
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(only(result.requests, "POST").body, { havipId: havip.id, vnicId: vmA.primaryVnicId });
  // The answer's HAVIP (a fixture held by vm-B) says the report did not stick: the holder after it is shown.
  assert.equal(
    result.stdout,
    "vm-A (eni-0000000000000000a) reported as the holder of db-vip (10.0.1.50)\n" +
      "holder now: eni-0000000000000000b, generation 3\n",
  );
  const held = { ...havip, holder: { ...havip.holder!, instanceId: vmA.id, vnicId: vmA.primaryVnicId } };
  const stuck = await runWith(["observe", "db-vip", "vm-A"], (r) =>
    r.method === "POST" ? { status: 200, body: { changed: true, havip: { ...held, generation: 3 } } } : reads(r),
  );
  assert.equal(stuck.stdout, "vm-A (eni-0000000000000000a) now holds db-vip (10.0.1.50), generation 3\n");
  const same = await runWith(["observe", "db-vip", "vm-A"], (r) =>
    r.method === "POST" ? { status: 200, body: { changed: false, havip: held } } : reads(r),
  );
  assert.match(
    same.stdout,
    /^vm-A \(eni-0000000000000000a\) already held db-vip \(10\.0\.1\.50\): holder unchanged, generation 2$/m,
  );
});

test("observe refuses an instance without a vNIC in the HAVIP's subnet, before calling the API", async () => {
  const elsewhere = instance("i-0000000000000000c", "vm-C", "10.0.2.2", "subnet-00000000000000002");
  const result = await runWith(["observe", havip.id, "vm-C"], (r) =>
    r.path === "/v1/instances"
      ? page([elsewhere])
      : r.path === `/v1/instances/${elsewhere.id}`
        ? { status: 200, body: elsewhere }
        : reads(r),
  );
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /^error: IncorrectState\.HolderNotAllowed: instance vm-C \(i-0000000000000000c\) has no vNIC/,
  );
  assert.equal(result.requests.filter((r) => r.method === "POST").length, 0);
});

test("unknown and ambiguous names are errors naming the candidates", async () => {
  const missing = await runWith(["vpc", "show", "nope"], reads);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'error: NotFound: no VPC with id or name "nope"\n');
  const twins = await runWith(["instance", "delete", "vm-A"], (r) =>
    r.path === "/v1/instances" ? page([vmA, { ...vmB, name: "vm-A" }]) : undefined,
  );
  assert.equal(twins.code, 1);
  assert.match(
    twins.stderr,
    /^error: InvalidParameter: "vm-A" names 2 instances \(i-0000000000000000a, i-0000000000000000b\); use an id\n$/,
  );
  assert.equal(twins.requests.filter((r) => r.method === "DELETE").length, 0);
});

test("API errors print code and message on stderr and exit 1", async () => {
  const result = await runWith(["vpc", "delete", vpc.id], () =>
    apiError(409, "DependencyViolation.VpcHasSubnets", "The VPC still has subnets."),
  );
  assert.equal(result.code, 1);
  assert.equal(result.stdout, "");
  assert.equal(result.stderr, "error: DependencyViolation.VpcHasSubnets: The VPC still has subnets.\n");
});

test("an Unauthorized answer without any configured token says how to give one", async () => {
  const result = await runWith(["vpc", "list"], () =>
    apiError(401, "Unauthorized", "No valid bearer token was given."),
  );
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /^error: Unauthorized: No valid bearer token was given\. \(no token configured: use --token/,
  );
});

test("a refused connection is one line naming the address; a non-API answer is not a stack trace", async () => {
  const refused = await runWith(["--api", "http://127.0.0.1:7999", "vpc", "list"], () => connectionRefused());
  assert.equal(refused.code, 1);
  assert.equal(refused.stderr, "error: cannot reach havipd at http://127.0.0.1:7999: connection refused\n");
  const proxy = await runWith(["vpc", "list"], () => ({ status: 502, body: "<html>bad gateway</html>" }));
  assert.equal(proxy.code, 1);
  assert.match(proxy.stderr, /^error: HTTP502: /);
  assert.equal(proxy.stderr.split("\n").length, 2);
});

test("usage errors exit 2: unknown options and commands, missing options, bad values, conflicting flags", async () => {
  const cases = [
    ["vpc", "create", "--cidr", "10.0.0.0/16"],
    ["vpc", "list", "--frob"],
    ["frob"],
    ["vpc", "list", "--limit", "0"],
    ["vpc", "create", "--cidr", "10.0.0.0/16", "--region", "r", "--mtu", "9000"],
    ["vpc", "create", "--cidr", "10.0.0.0/16", "--region", "r", "--mtu", "jumbo"],
    ["subnet", "create", "--vpc", "v", "--cidr", "c", "--zone", "z", "--broadcast", "sometimes"],
    ["eip", "associate", "eip-00000000000000001", "--havip", "h", "--vnic", "eni-1"],
    ["havip", "update", "h"],
    ["quota", "set"],
    ["observe", "h", "vm-A", "--at", "yesterday"],
    ["vpc"],
  ];
  for (const argv of cases) {
    const result = await runWith(argv, reads);
    assert.equal(result.code, 2, `${argv.join(" ")}: ${result.stderr}`);
    assert.ok(result.stderr.length > 0, argv.join(" "));
    assert.equal(result.requests.filter((r) => r.method !== "GET").length, 0, argv.join(" "));
  }
});

test("help and version exit 0 on stdout", async () => {
  const help = await runWith(["--help"], reads);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: havip/);
  for (const group of [
    "login",
    "project",
    "pool",
    "quota",
    "vpc",
    "subnet",
    "instance",
    "vnic",
    "havip",
    "observe",
    "eip",
    "events",
  ]) {
    assert.match(help.stdout, new RegExp(`^  ${group} `, "m"), group);
  }
  const version = await runWith(["--version"], reads);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  const sub = await runWith(["havip", "create", "--help"], reads);
  assert.equal(sub.code, 0);
  assert.match(sub.stdout, /--member <instance-or-vnic>/);
  assert.match(sub.stdout, /--api <url>/); // global options are listed under each command
});

test("settings: --api/--token beat HAVIP_API/HAVIP_TOKEN, which beat the config file", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "havip-cli-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = join(dir, "config.json");
  await writeFile(config, JSON.stringify({ api: "http://from-file:1", token: "file-token" }));
  const seen = async (argv: string[], env: Record<string, string>): Promise<[string, string | undefined]> => {
    const result = await runWith([...argv, "vpc", "list"], () => page([]), { env: { HAVIP_CONFIG: config, ...env } });
    assert.equal(result.code, 0, result.stderr);
    const request = result.requests[0]!;
    return [request.origin, request.headers.authorization];
  };
  assert.deepEqual(await seen([], {}), ["http://from-file:1", "Bearer file-token"]);
  const env = { HAVIP_API: "http://from-env:2", HAVIP_TOKEN: "env-token" };
  assert.deepEqual(await seen([], env), ["http://from-env:2", "Bearer env-token"]);
  assert.deepEqual(await seen(["--api", "http://from-flag:3", "--token", "flag-token"], env), [
    "http://from-flag:3",
    "Bearer flag-token",
  ]);
  // Without any of them: the default address and no Authorization header.
  const bare = await runWith(["vpc", "list"], () => page([]), { env: { HAVIP_CONFIG: join(dir, "absent.json") } });
  assert.equal(bare.requests[0]!.origin, "http://127.0.0.1:7480");
  assert.equal(bare.requests[0]!.headers.authorization, undefined);
});

test("login checks the token, reports the role, and writes the config file 0600", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "havip-cli-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = join(dir, "havip", "config.json");
  const route: Route = (r) => {
    if (r.path === "/v1/quotas")
      return r.headers.authorization === "Bearer good"
        ? { status: 200, body: {} }
        : apiError(401, "Unauthorized", "No valid bearer token was given.");
    if (r.path === "/v1/projects") return apiError(403, "Forbidden", "operators only");
    return undefined;
  };
  const bad = await runWith(["login", "--api", "http://h:1", "--token", "bad"], route, {
    env: { HAVIP_CONFIG: config },
  });
  assert.equal(bad.code, 1);
  await assert.rejects(stat(config), { code: "ENOENT" });
  const good = await runWith(["login", "--api", "h:1", "--token", "good"], route, { env: { HAVIP_CONFIG: config } });
  assert.equal(good.code, 0, good.stderr);
  assert.equal(good.stdout, `logged in to http://h:1 with a project token; saved to ${config}\n`);
  assert.equal((await stat(config)).mode & 0o777, 0o600);
  const later = await runWith(["vpc", "list"], (r) => (r.path === "/v1/vpcs" ? page([]) : undefined), {
    env: { HAVIP_CONFIG: config },
  });
  assert.equal(later.requests[0]!.headers.authorization, "Bearer good");
  const missing = await runWith(["login", "--api", "h:1"], route, { env: { HAVIP_CONFIG: config, HAVIP_TOKEN: "" } });
  assert.equal(missing.code, 2);
});

test("events pages through the log; --json prints one page", async () => {
  const event = (revision: number) => ({
    revision,
    at: "2025-01-01T00:00:00.000Z",
    projectId: "proj-1",
    resource: "vpc",
    id: `vpc-${revision}`,
    action: "created",
    data: null,
  });
  const route: Route = (r) => {
    if (r.path !== "/v1/events") return undefined;
    const since = Number(r.query.since);
    return since < 2
      ? { status: 200, body: { items: [event(since + 1)], lastRevision: since + 1, more: true } }
      : { status: 200, body: { items: [], lastRevision: since, more: false } };
  };
  const table = await runWith(["events"], route);
  assert.equal(table.code, 0, table.stderr);
  assert.deepEqual(
    table.requests.map((r) => r.query.since),
    ["0", "1", "2"],
  );
  assert.ok(table.requests.every((r) => r.query.wait === "0"));
  assert.match(
    table.stdout,
    /^REVISION +AT +ACTION +RESOURCE +ID +PROJECT\n1 +2025-01-01T00:00:00Z +created +vpc +vpc-1 +proj-1\n2 /,
  );
  const json = await runWith(["events", "--since", "1", "--json"], route);
  assert.deepEqual(JSON.parse(json.stdout), { items: [event(2)], lastRevision: 2, more: false });
});

test("events --follow resumes after a dropped stream from the last revision it printed", async () => {
  const frame = (revision: number) =>
    `id: ${revision}\nevent: created\ndata: ${JSON.stringify({ revision, at: "2025-01-01T00:00:00.000Z", projectId: null, resource: "eip-pool", id: `pool-${revision}`, action: "created", data: null })}\n\n`;
  const stop = new AbortController();
  let connections = 0;
  const route: Route = (r) => {
    if (r.path !== "/v1/events") return undefined;
    connections++;
    if (connections === 1) return { stream: [": hello\n\n", frame(1), frame(2).slice(0, 10), frame(2).slice(10)] };
    if (connections === 2) return { stream: [frame(2), frame(3)] }; // 2 again: must not be printed twice
    stop.abort();
    return connectionRefused();
  };
  const result = await runWith(["events", "--follow", "--json"], route, { signal: stop.signal });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(
    result.stdout
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { revision: number }).revision),
    [1, 2, 3],
  );
  assert.deepEqual(
    result.requests.map((r) => r.headers["last-event-id"]),
    ["0", "2", "3"],
  );
  assert.match(result.stderr, /connection to http:\/\/127\.0\.0\.1:7480 lost; resuming after revision 2/);
});

test("events --follow fails at once when havipd cannot be reached at all", async () => {
  const result = await runWith(["events", "--follow"], () => connectionRefused());
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error: cannot reach havipd at http:\/\/127\.0\.0\.1:7480: connection refused\n$/);
});

test("a name shaped unlike an id is looked up even when it starts with the id prefix", async () => {
  const web = { ...vmA, name: "i-web" };
  const result = await runWith(["instance", "show", "i-web", "--json"], (r) =>
    r.path === "/v1/instances"
      ? page([web])
      : r.path === `/v1/instances/${web.id}`
        ? { status: 200, body: web }
        : undefined,
  );
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(
    result.requests.map((r) => r.path),
    ["/v1/instances", `/v1/instances/${web.id}`],
  );
  // An id goes straight to the resource.
  const direct = await runWith(["instance", "show", vmA.id, "--json"], reads);
  assert.deepEqual(
    direct.requests.map((r) => r.path),
    [`/v1/instances/${vmA.id}`],
  );
});

test("events --follow prints aligned lines under one header", async () => {
  const stop = new AbortController();
  const event = {
    revision: 7,
    at: "2025-01-01T00:00:00.000Z",
    projectId: "proj-00000000000000001",
    resource: "havip",
    id: "havip-00000000000000001",
    action: "holder-changed",
    data: null,
  };
  const result = await runWith(
    ["events", "--follow"],
    (r) => {
      if (r.path !== "/v1/events") return undefined;
      if (r.headers["last-event-id"] === "7") {
        stop.abort();
        return connectionRefused();
      }
      return { stream: [`id: 7\nevent: holder-changed\ndata: ${JSON.stringify(event)}\n\n`] };
    },
    { signal: stop.signal },
  );
  assert.equal(result.code, 0, result.stderr);
  const [header, line] = result.stdout.split("\n");
  for (const column of ["AT", "ACTION", "RESOURCE", "ID", "PROJECT"]) {
    const at = header!.indexOf(` ${column}`) + 1;
    assert.notEqual(line![at - 1], undefined);
    assert.equal(line![at - 1], " ", `column ${column} starts at the same offset`);
    assert.notEqual(line![at], " ", `column ${column} starts at the same offset`);
  }
});
