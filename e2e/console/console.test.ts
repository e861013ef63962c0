// The web console in a real browser (Debian's Chromium through playwright-core) against a real havipd with
// its in-process fabric on loopback. No root: the "instances" are UDP sockets speaking VXLAN that answer ARP for
// the addresses they have, as a host's stack does; the holder change is a real gratuitous ARP sent to the
// fabric, and the split brain is real too: two instances answer the fabric's "who has the HAVIP?" probes.
// Screenshots go to artifacts/console/.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import dgram from "node:dgram";
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { ChangeEvent, Eip, HaVip, Instance, Subnet, Vpc } from "@havip/control";
import { arpReply, gratuitousArp, tcpFrame } from "@havip/testkit";
import { ARP_OP, ETHERTYPE, VXLAN_HEADER_LEN, formatIpv4, parseArp, readU16, writeVxlanHeader } from "@havip/wire";
import { chromium, type Browser, type Page } from "playwright-core";
import { api, OPERATOR_TOKEN, REPO, startHavipd, tempDir, type Cleanup } from "../control/harness.ts";

const CHROMIUM = process.env.HAVIP_CHROMIUM ?? "/usr/bin/chromium";
const CONSOLE_DIST = join(REPO, "packages/console/dist");
const ARTIFACTS = join(REPO, "artifacts/console");
const WAIT_MS = 15_000; // generous: the CI machine runs other suites beside this one

/** Skip loudly without Chromium; in CI its absence is a failure (.ci/run installs it). */
function chromiumGate(): { skip: string | false } {
  if (existsSync(CHROMIUM)) return { skip: false };
  const reason = `!!! console browser test: SKIPPED — no Chromium at ${CHROMIUM} (apt-get install chromium) !!!`;
  process.stderr.write(`\n${reason}\n\n`);
  if (process.env.CI !== undefined && process.env.CI !== "") {
    test("the console browser test needs Chromium in CI", () => {
      assert.fail(`no Chromium at ${CHROMIUM}: .ci/run must install Debian's chromium package`);
    });
  }
  return { skip: reason };
}

/** setup.sh builds the console; a checkout that skipped it gets one build here. */
function ensureBuilt(): void {
  if (existsSync(join(CONSOLE_DIST, "index.html"))) return;
  const vite = join(REPO, "node_modules/vite/bin/vite.js");
  const result = spawnSync(process.execPath, [vite, "build"], {
    cwd: join(REPO, "packages/console"),
    encoding: "utf8",
  });
  assert.equal(result.status, 0, `vite build failed:\n${result.stderr}${result.stdout}`);
}

/**
 * A VXLAN peer on loopback standing in for an instance: its kernel VXLAN device, and its stack's ARP answers for
 * the addresses it has (`addresses`), which is how the fabric's verification learns who has a HAVIP.
 */
async function instancePeer(
  t: Cleanup,
  vni: number,
  mac: string,
): Promise<{ port: number; addresses: Set<string>; send(to: number, frame: Uint8Array): void }> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => {
    socket.bind(0, "127.0.0.1", resolve);
  });
  t.after(
    () =>
      new Promise<void>((resolve) => {
        socket.close(() => {
          resolve();
        });
      }),
  );
  const addresses = new Set<string>();
  const send = (to: number, frame: Uint8Array) => {
    const datagram = new Uint8Array(VXLAN_HEADER_LEN + frame.length);
    writeVxlanHeader(datagram, 0, vni);
    datagram.set(frame, VXLAN_HEADER_LEN);
    socket.send(datagram, to, "127.0.0.1");
  };
  socket.on("message", (datagram, from) => {
    const eth = VXLAN_HEADER_LEN;
    if (datagram.length < eth + 14 + 28 || readU16(datagram, eth + 12) !== ETHERTYPE.ARP) return;
    const arp = parseArp(datagram, eth + 14, datagram.length - eth - 14);
    if (!("op" in arp) || arp.op !== ARP_OP.REQUEST || !addresses.has(formatIpv4(arp.targetIp))) return;
    send(from.port, arpReply({ mac, ip: arp.targetIp, targetMac: arp.senderMac, targetIp: arp.senderIp }));
  });
  return { port: socket.address().port, addresses, send };
}

async function ok<T>(reply: Promise<{ status: number; body: T }>, status = 201): Promise<T> {
  const r = await reply;
  assert.equal(r.status, status, JSON.stringify(r.body));
  return r.body;
}

/** Waits until the HAVIP page's counter (polled by the page every few seconds) reaches `n`. */
async function counterAtLeast(page: Page, label: string, n: number): Promise<void> {
  const counter = page.locator(`[data-counter="${label}"]`);
  const deadline = Date.now() + WAIT_MS;
  let last = "";
  while (Date.now() < deadline) {
    last = ((await counter.textContent()) ?? "").replaceAll(",", "");
    if (Number(last) >= n) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`counter ${label} stayed at ${last}, below ${n}`);
}

/** Every form control inside the console (through its shadow roots) that has no accessible label. */
function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const missing: string[] = [];
    const visit = (root: Document | ShadowRoot) => {
      for (const el of root.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>(
        "input, select, textarea",
      )) {
        const named =
          (el.labels?.length ?? 0) > 0 || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
        if (!named) missing.push(el.outerHTML);
      }
      for (const host of root.querySelectorAll("*")) if (host.shadowRoot) visit(host.shadowRoot);
    };
    visit(document);
    return missing;
  });
}

const suite = chromiumGate();

test(
  "the console signs in, creates a HAVIP, follows an announced holder change live, binds an EIP, deletes",
  suite,
  async (t) => {
    ensureBuilt();
    await mkdir(ARTIFACTS, { recursive: true });
    const daemon = await startHavipd(t, {
      dataDir: await tempDir(t, "havip-console-e2e-"),
      args: ["--fabric-listen", "127.0.0.1:0"],
    });
    const op = (method: string, path: string, body?: unknown) => api(daemon.url, OPERATOR_TOKEN, method, path, body);

    // The world the console shows: one project, a VPC with a broadcast subnet and a unicast-only one, two VMs.
    const { token } = await ok(
      op("POST", "/v1/projects", { name: "console-e2e" }) as Promise<{ status: number; body: { token: string } }>,
    );
    await ok(op("POST", "/v1/eip-pools", { region: "region-1", cidr: "198.51.100.0/28" }));
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the answer's shape
    const tenant = <T>(method: string, path: string, body?: unknown) => api<T>(daemon.url, token, method, path, body);
    const vpc = await ok(tenant<Vpc>("POST", "/v1/vpcs", { name: "prod", cidr: "10.0.0.0/16", region: "region-1" }));
    const subnet = await ok(
      tenant<Subnet>("POST", "/v1/subnets", { vpcId: vpc.id, name: "web", cidr: "10.0.1.0/24", zone: "zone-a" }),
    );
    await ok(
      tenant<Subnet>("POST", "/v1/subnets", {
        vpcId: vpc.id,
        name: "edge",
        cidr: "10.0.2.0/24",
        zone: "zone-a",
        broadcast: "unicast-only",
      }),
    );
    const vmA = await ok(
      tenant<Instance>("POST", "/v1/instances", { name: "vm-A", subnetId: subnet.id, ipAddress: "10.0.1.11" }),
    );
    const vmB = await ok(
      tenant<Instance>("POST", "/v1/instances", { name: "vm-B", subnetId: subnet.id, ipAddress: "10.0.1.12" }),
    );

    // vm-A and vm-B reach the fabric over VXLAN on loopback: UDP sockets this test owns.
    const listing = await ok(
      op("GET", "/v1/fabric/attachments") as Promise<{ status: number; body: { listen: { port: number } } }>,
      200,
    );
    const fabricPort = listing.listen.port;
    const peers = new Map<string, Awaited<ReturnType<typeof instancePeer>>>();
    for (const [vm, vni] of [
      [vmA, 5101],
      [vmB, 5102],
    ] as const) {
      const peer = await instancePeer(t, vni, vm.vnics[0]!.macAddress);
      peers.set(vm.id, peer);
      await ok(
        op("PUT", `/v1/fabric/attachments/${vm.primaryVnicId}`, {
          remoteAddress: "127.0.0.1",
          remotePort: peer.port,
          vni,
        }),
        200,
      );
    }
    const peer = (vm: Instance) => peers.get(vm.id)!;
    /** `vm` has the HAVIP's address from now on and announces it (a gratuitous ARP), as keepalived does. */
    const announce = (vm: Instance, havip: HaVip) => {
      peer(vm).addresses.add(havip.ipAddress);
      peer(vm).send(fabricPort, gratuitousArp({ mac: vm.vnics[0]!.macAddress, ip: havip.ipAddress }));
    };
    /** A failover: the others step down (remove the address), then `vm` takes it. */
    const takeOver = (vm: Instance, havip: HaVip) => {
      for (const other of peers.values()) other.addresses.delete(havip.ipAddress);
      announce(vm, havip);
    };
    /** A TCP SYN from `vm` to the HAVIP (its virtual MAC): the fabric delivers it to the holder. */
    const request = (vm: Instance, havip: HaVip, srcPort: number) => {
      const nic = vm.vnics[0]!;
      const frame = tcpFrame({
        srcMac: nic.macAddress,
        dstMac: havip.virtualMac,
        src: nic.ipAddress,
        dst: havip.ipAddress,
        srcPort,
        dstPort: 5432,
      });
      peer(vm).send(fabricPort, frame);
    };

    const browser: Browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // A closed network: no background connections Chromium would otherwise try (and hang on).
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    t.after(() => browser.close());
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    // havipd's Content-Security-Policy must not block anything the console needs.
    page.on("console", (m) => {
      if (m.type() === "error" && /Content Security Policy|Refused to/i.test(m.text())) pageErrors.push(m.text());
    });

    // Sign in with the keyboard only: Tab to the token field, type, Enter.
    await page.goto(daemon.url);
    await page.getByRole("heading", { name: "havip console" }).waitFor();
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      let el = document.activeElement;
      while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
      return el?.id ?? null;
    });
    assert.equal(focused, "token", "Tab reaches the token field first");
    await page.keyboard.type(token);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "HAVIPs", exact: true }).waitFor();
    await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
    assert.deepEqual(await unlabelledControls(page), [], "every form control has a label");
    for (const label of ["Subnet", "IP address", "Name", "Description"]) {
      assert.equal(await page.getByLabel(label, { exact: true }).count(), 1, `a control labelled ${label}`);
    }

    // A marker on window survives only if the page is never reloaded.
    await page.evaluate(() => {
      (window as unknown as { __havipNoReload: boolean }).__havipNoReload = true;
    });

    // The API's error text, shown as the API wrote it: an address outside the subnet.
    const refused = await tenant<{ error: { code: string; message: string } }>("POST", "/v1/havips", {
      subnetId: subnet.id,
      ipAddress: "10.0.9.9",
      name: "db",
    });
    assert.equal(refused.status, 400);
    await page.getByLabel("Subnet", { exact: true }).selectOption(subnet.id);
    await page.getByLabel("IP address").fill("10.0.9.9");
    await page.getByLabel("Name", { exact: true }).fill("db");
    await page.getByRole("button", { name: "Create HAVIP" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.equal((await alert.textContent())?.trim(), `${refused.body.error.code}: ${refused.body.error.message}`);

    // Create the HAVIP through the form.
    await page.getByLabel("IP address").fill("10.0.1.50");
    await page.getByRole("button", { name: "Create HAVIP" }).click();
    const row = page.locator("tr[data-havip]").filter({ hasText: "10.0.1.50" });
    await row.waitFor();
    const havips = await ok(tenant<{ items: HaVip[] }>("GET", "/v1/havips"), 200);
    assert.equal(havips.items.length, 1);
    const havip = havips.items[0]!;
    assert.equal(havip.name, "db");
    assert.match((await row.textContent()) ?? "", /available/);

    // vm-A, then vm-B announce the address: the list follows without a reload.
    takeOver(vmA, havip);
    await row.locator(`[data-holder-vnic="${vmA.primaryVnicId}"]`).waitFor();
    await page.locator(`a[href="#/havips/${havip.id}"]`).click();
    const holder = page.locator('[data-testid="holder"]');
    await holder.locator(`[data-holder-vnic="${vmA.primaryVnicId}"]`).waitFor();
    takeOver(vmB, havip);
    await holder.locator(`[data-holder-vnic="${vmB.primaryVnicId}"]`).waitFor();
    assert.match((await holder.textContent()) ?? "", /vm-B[\s\S]*gen\s+2/);
    const timeline = page.locator('[data-testid="timeline"]');
    await timeline.locator('tr[data-generation="2"]').waitFor();
    assert.match((await timeline.locator('tr[data-generation="2"]').textContent()) ?? "", /vm-B[\s\S]*announcement/);
    assert.match((await timeline.locator('tr[data-generation="1"]').textContent()) ?? "", /vm-A[\s\S]*first holder/);
    assert.equal(await page.evaluate(() => (window as unknown as { __havipNoReload?: boolean }).__havipNoReload), true);

    // The fabric's counters for this HAVIP, polled by the page.
    await counterAtLeast(page, "Claims", 2);

    // Allocate an EIP and bind it, all in the page.
    await page.getByRole("button", { name: "Allocate an EIP" }).click();
    await page.getByRole("button", { name: "Bind EIP" }).and(page.locator(":enabled")).waitFor();
    await page.getByRole("button", { name: "Bind EIP" }).click();
    const bound = page.locator('[data-testid="eip-address"]');
    await bound.waitFor();
    const eips = await ok(tenant<{ items: Eip[] }>("GET", "/v1/eips"), 200);
    assert.equal(eips.items.length, 1);
    assert.deepEqual(eips.items[0]!.target, { type: "havip", havipId: havip.id });
    assert.equal((await bound.textContent())?.trim(), eips.items[0]!.publicIp);

    // "Capture 100 frames" downloads the pcap that POST /v1/captures answers, while vm-A sends the HAVIP 100
    // requests (delivered to the holder, vm-B).
    const download = page.waitForEvent("download", { timeout: 30_000 });
    await page.getByRole("button", { name: "Capture 100 frames" }).click();
    await page.getByRole("status").filter({ hasText: "Capturing" }).waitFor();
    for (let i = 0; i < 100; i++) request(vmA, havip, 40000 + i);
    const file = await (await download).path();
    const pcap = await readFile(file);
    assert.ok(pcap.length >= 24, "a pcap file header at least");
    assert.ok([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(pcap.readUInt32LE(0)), "pcap magic");
    await page
      .getByRole("status")
      .filter({ hasText: /Downloaded havip-.*\.pcap/ })
      .waitFor();
    await counterAtLeast(page, "Delivered", 100);
    await page.screenshot({ path: join(ARTIFACTS, "havip-timeline.png"), fullPage: true });

    // The list again (a link, not a reload): holder vm-B, EIP shown.
    await page.getByRole("link", { name: "← HAVIPs" }).click();
    await row.locator(`[data-holder-vnic="${vmB.primaryVnicId}"]`).waitFor();
    assert.match((await row.textContent()) ?? "", new RegExp(eips.items[0]!.publicIp.replaceAll(".", "\\.")));
    await page.screenshot({ path: join(ARTIFACTS, "havip-list.png"), fullPage: true });
    await page.getByRole("link", { name: "VPCs & subnets" }).click();
    await page.getByText("unicast-only").first().waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "network.png"), fullPage: true });
    assert.equal(await page.evaluate(() => (window as unknown as { __havipNoReload?: boolean }).__havipNoReload), true);

    // A phone: the same list as stacked cards.
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
    });
    const small = await phone.newPage();
    small.setDefaultTimeout(WAIT_MS);
    await small.goto(daemon.url);
    await small.getByLabel("API token").fill("not-a-token");
    await small.getByRole("button", { name: "Sign in" }).click();
    const refusedToken = small.getByRole("alert");
    await refusedToken.waitFor();
    assert.match((await refusedToken.textContent()) ?? "", /^Unauthorized: /);
    await small.getByLabel("API token").fill(token);
    await small.getByRole("button", { name: "Sign in" }).click();
    await small.locator("tr[data-havip]").waitFor();
    const cardWidth = await small.locator("tr[data-havip]").evaluate((el) => el.getBoundingClientRect().width);
    assert.ok(cardWidth <= 390, `the HAVIP card fits the phone (${cardWidth}px)`);
    await small.screenshot({ path: join(ARTIFACTS, "havip-list-phone.png"), fullPage: true });
    await small.goto(`${daemon.url}/#/havips/${havip.id}`);
    await small.locator('[data-testid="timeline"]').waitFor();
    await small.screenshot({ path: join(ARTIFACTS, "havip-timeline-phone.png"), fullPage: true });
    await phone.close();

    // Split brain: vm-A takes the address again while vm-B keeps it (as when their VRRP adverts no longer reach
    // each other). Both answer the fabric's probes: the HAVIP is contested, the page shows a banner at once.
    await page.getByRole("link", { name: "HAVIPs", exact: true }).click();
    await page.locator(`a[href="#/havips/${havip.id}"]`).first().click();
    await holder.waitFor();
    const banner = page.locator('[data-testid="contest-banner"]');
    assert.equal(await banner.count(), 0, "no banner before the split brain");
    announce(vmA, havip);
    await banner.waitFor();
    const torn = await ok(tenant<HaVip>("GET", `/v1/havips/${havip.id}`), 200);
    assert.notEqual(torn.contested, null, "the API says contested");
    assert.deepEqual(
      torn.contested!.claimants.map((c) => c.instanceId).sort(),
      [vmA.id, vmB.id].sort(),
      "both instances are claimants",
    );
    const kept = torn.holder!.vnicId; // the holder the fabric keeps: one of the two
    const other = kept === vmA.primaryVnicId ? vmB : vmA;
    const bannerText = (await banner.textContent()) ?? "";
    assert.match(bannerText, /Split brain: vm-[AB] and vm-[AB] both hold 10\.0\.1\.50/);
    assert.match(bannerText, /What to do:[\s\S]*docs\/guides\/split-brain\.md/);
    assert.match((await banner.locator(`[data-claimant="${kept}"]`).textContent()) ?? "", /holder, kept/);
    assert.doesNotMatch(
      (await banner.locator(`[data-claimant="${other.primaryVnicId}"]`).textContent()) ?? "",
      /holder/,
    );
    assert.equal(await page.locator('[data-testid="contested-mark"]').count(), 1, "a mark beside the status");
    // The other claimant announces again (keepalived's periodic gratuitous ARPs): damped, the holder stays.
    peer(other).send(fabricPort, gratuitousArp({ mac: other.vnics[0]!.macAddress, ip: havip.ipAddress }));
    await counterAtLeast(page, "Contest-damped", 1);
    assert.equal((await ok(tenant<HaVip>("GET", `/v1/havips/${havip.id}`), 200)).holder?.vnicId, kept);
    await page.screenshot({ path: join(ARTIFACTS, "havip-contested.png"), fullPage: true });

    // The list marks it too, and the mark goes when only one instance answers again (the split brain healed).
    await page.getByRole("link", { name: "← HAVIPs" }).click();
    const mark = row.locator('[data-testid="contested-mark"]');
    await mark.waitFor();
    await page.locator('[data-testid="contest-note"]').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "havip-list-contested.png"), fullPage: true });
    peer(other).addresses.delete(havip.ipAddress);
    await mark.waitFor({ state: "detached" });
    assert.equal(await page.locator('[data-testid="contest-note"]').count(), 0);
    const healed = await ok(tenant<HaVip>("GET", `/v1/havips/${havip.id}`), 200);
    assert.equal(healed.contested, null);
    assert.equal(healed.holder?.vnicId, kept, "the holder the fabric kept stays");
    const log = await ok(tenant<{ items: ChangeEvent[] }>("GET", "/v1/events?since=0&wait=0&limit=1000"), 200);
    const contestEvents = log.items.filter((e) => e.id === havip.id && e.action.startsWith("contest-"));
    assert.deepEqual(
      contestEvents.map((e) => e.action),
      ["contest-started", "contest-ended"],
    );
    assert.equal(await page.evaluate(() => (window as unknown as { __havipNoReload?: boolean }).__havipNoReload), true);

    // Delete while an EIP is bound: the API refuses and the page says why; unbind, then delete.
    await page.locator(`a[href="#/havips/${havip.id}"]`).first().click();
    await page.getByRole("button", { name: "Delete HAVIP" }).click();
    await page.getByRole("button", { name: "Yes, delete" }).click();
    const refusal = page.getByRole("alert").filter({ hasText: "DependencyViolation.HaVipHasEip" });
    await refusal.waitFor();
    assert.match((await refusal.textContent()) ?? "", /^DependencyViolation\.HaVipHasEip: \S/);
    await page.getByRole("button", { name: "Unbind EIP" }).click();
    await page.getByRole("button", { name: "Bind EIP" }).waitFor();
    assert.equal((await ok(tenant<Eip>("GET", `/v1/eips/${eips.items[0]!.id}`), 200)).status, "available");
    await page.getByRole("button", { name: "Delete HAVIP" }).click();
    await page.getByRole("button", { name: "Yes, delete" }).click();
    await page.getByText("No HAVIPs yet.").waitFor();
    assert.equal((await tenant("GET", `/v1/havips/${havip.id}`)).status, 404);
    assert.equal(await page.evaluate(() => (window as unknown as { __havipNoReload?: boolean }).__havipNoReload), true);

    assert.deepEqual(pageErrors, [], "no script errors in the page");
  },
);
