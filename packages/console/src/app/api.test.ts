import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiClient, ApiFailure, errorText, failureOf } from "./api.ts";

test("an API error keeps its code and message exactly as written", async () => {
  const body = {
    error: { code: "InvalidIpAddress.NotInSubnet", message: "10.0.9.9 is not in 10.0.1.0/24.", requestId: "r-1" },
  };
  const failure = await failureOf(new Response(JSON.stringify(body), { status: 400 }));
  assert.equal(failure.status, 400);
  assert.equal(failure.text, "InvalidIpAddress.NotInSubnet: 10.0.9.9 is not in 10.0.1.0/24.");
  assert.equal(failure.requestId, "r-1");
  assert.equal(errorText(failure), failure.text);
});

test("a body that is not the API's JSON is shown as text with the status", async () => {
  const failure = await failureOf(new Response("The web console is not built\n", { status: 503 }));
  assert.equal(failure.text, "HTTP 503: The web console is not built");
  assert.equal(errorText(new TypeError("Failed to fetch")), "Network error: Failed to fetch");
});

test("ApiClient sends the bearer token and follows nextCursor through every page", async () => {
  const seen: { url: string; auth: string | null }[] = [];
  const client = new ApiClient("tok-1", "http://api", (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    seen.push({ url, auth: new Headers(init?.headers).get("authorization") });
    const page = url.includes("cursor=") ? { items: [3], nextCursor: null } : { items: [1, 2], nextCursor: "c/2" };
    return Promise.resolve(new Response(JSON.stringify(page), { status: 200 }));
  });
  assert.deepEqual(await client.all<number>("/v1/havips?vpcId=vpc-1"), [1, 2, 3]);
  assert.deepEqual(
    seen.map((s) => s.url),
    ["http://api/v1/havips?vpcId=vpc-1&limit=1000", "http://api/v1/havips?vpcId=vpc-1&limit=1000&cursor=c%2F2"],
  );
  assert.ok(seen.every((s) => s.auth === "Bearer tok-1"));
  const failing = new ApiClient("t", "", () =>
    Promise.resolve(
      new Response(JSON.stringify({ error: { code: "NotFound", message: "No such HAVIP.", requestId: "x" } }), {
        status: 404,
      }),
    ),
  );
  await assert.rejects(
    failing.get("/v1/havips/havip-1"),
    (e: unknown) => e instanceof ApiFailure && e.code === "NotFound",
  );
});
