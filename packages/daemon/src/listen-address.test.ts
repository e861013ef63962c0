import { test } from "node:test";
import assert from "node:assert/strict";
import { listenUrl, parseListenAddress } from "./listen-address.ts";

test("parses IPv4, name and bracketed IPv6 listen addresses", () => {
  assert.deepEqual(parseListenAddress("127.0.0.1:7480"), { host: "127.0.0.1", port: 7480 });
  assert.deepEqual(parseListenAddress("localhost:0"), { host: "localhost", port: 0 });
  assert.deepEqual(parseListenAddress("[::1]:8080"), { host: "::1", port: 8080 });
});

test("rejects listen addresses without a port, with a bad port, or unbracketed IPv6", () => {
  for (const bad of ["127.0.0.1", ":7480", "127.0.0.1:", "127.0.0.1:70000", "::1:80", "host:port", "a b:1"]) {
    const parsed = parseListenAddress(bad);
    assert.ok("error" in parsed, bad);
  }
});

test("a wildcard listen address is reached over loopback", () => {
  assert.equal(listenUrl({ host: "0.0.0.0", port: 1 }), "http://127.0.0.1:1");
  assert.equal(listenUrl({ host: "::", port: 2 }), "http://[::1]:2");
  assert.equal(listenUrl({ host: "10.1.2.3", port: 3 }), "http://10.1.2.3:3");
});

test("unix:/abs/path serves on a Unix socket; a relative path is refused", () => {
  assert.deepEqual(parseListenAddress("unix:/run/havipd.sock"), { host: "unix", port: 0, path: "/run/havipd.sock" });
  assert.ok("error" in parseListenAddress("unix:havipd.sock"));
  assert.equal(listenUrl({ host: "unix", port: 0, path: "/run/havipd.sock" }), "unix:/run/havipd.sock");
});
