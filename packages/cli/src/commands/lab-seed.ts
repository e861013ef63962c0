// `havip lab up seed-example`: the seed example (seed 001) made real. Through the API (found by name when
// it already exists, so running it again reuses everything): project "demo", an EIP pool, VPC demo-vpc
// 10.0.0.0/16, subnet demo-subnet 10.0.1.0/24, vm-A, vm-B, vm-C, HAVIP demo-vip 10.0.1.50 (members vm-A
// and vm-B) and an EIP bound to it. In the lab: the three instances and the internet namespace attached,
// keepalived (VRRPv2, advert_int 1, vm-A's priority higher) and the HTTP service in vm-A and vm-B, the echo
// service on the internet host. Then it waits for a holder.
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Eip, EipPool, HaVip, Instance, Subnet, Vpc } from "@havip/control";
import { INTERNET_DEFAULTS, requirePrograms, UNDERLAY } from "@havip/lab";
import type { KeepalivedConfig, Lab } from "@havip/lab";
import type { ApiClient } from "../client.ts";
import { labAwait, labCall, type LabContext, labNameOf } from "./lab-context.ts";
import { attachApiInstance, freeVni, usedVnis } from "./lab-instance.ts";
import { path } from "./shared.ts";

export const SEED = {
  project: "demo",
  region: "region-1",
  poolCidr: "198.51.100.0/24",
  vpc: { name: "demo-vpc", cidr: "10.0.0.0/16" },
  subnet: { name: "demo-subnet", cidr: "10.0.1.0/24", zone: "zone-a" },
  instances: ["vm-A", "vm-B", "vm-C"],
  havip: { name: "demo-vip", ip: "10.0.1.50", members: ["vm-A", "vm-B"] },
  /** keepalived priorities of the members: vm-A's is higher, so it holds the address first. */
  priorities: { "vm-A": 150, "vm-B": 100 } as Record<string, number>,
  tokenFile: "demo-project-token",
} as const;

export function seedKeepalived(priority: number): KeepalivedConfig {
  return {
    instances: [
      {
        name: "VI_1",
        version: 2,
        virtualRouterId: 51,
        priority,
        advertInterval: 1,
        state: "BACKUP",
        nopreempt: true,
        virtualAddresses: [{ address: SEED.havip.ip, prefixLen: 24 }],
        garpMasterDelay: 1,
        authPass: "havip",
      },
    ],
  };
}

async function findByName<T extends { name: string }>(client: ApiClient, list: string, name: string) {
  return (await client.listAll<T>(list)).find((x) => x.name === name);
}

/** The demo project's token: read from <data-dir>/demo-project-token, or the project is created. */
async function demoToken(lc: LabContext, admin: ApiClient): Promise<string> {
  const file = join(lc.places.dataDir, SEED.tokenFile);
  if (existsSync(file)) {
    const token = readFileSync(file, "utf8").trim();
    if (token !== "") return token;
  }
  const { token } = await admin.request<{ token: string }>("POST", "/v1/projects", { body: { name: SEED.project } });
  writeFileSync(`${file}.tmp`, `${token}\n`, { mode: 0o600 });
  chmodSync(`${file}.tmp`, 0o600);
  renameSync(`${file}.tmp`, file);
  return token;
}

export interface SeedResources {
  token: string;
  subnet: Subnet;
  instances: Instance[];
  havip: HaVip;
  eip: Eip;
}

/** The seed example's resources through the API, each found by name or created. */
export async function ensureSeedResources(lc: LabContext, admin: ApiClient): Promise<SeedResources> {
  const token = await demoToken(lc, admin);
  const pools = await admin.listAll<EipPool>("/v1/eip-pools");
  if (!pools.some((p) => p.region === SEED.region)) {
    await admin.request("POST", "/v1/eip-pools", { body: { region: SEED.region, cidr: SEED.poolCidr } });
  }
  const tenant = await lc.as(token);
  const vpc =
    (await findByName<Vpc>(tenant, "/v1/vpcs", SEED.vpc.name)) ??
    (await tenant.request<Vpc>("POST", "/v1/vpcs", { body: { ...SEED.vpc, region: SEED.region } }));
  const subnet =
    (await findByName<Subnet>(tenant, "/v1/subnets", SEED.subnet.name)) ??
    (await tenant.request<Subnet>("POST", "/v1/subnets", { body: { ...SEED.subnet, vpcId: vpc.id } }));
  const instances: Instance[] = [];
  for (const name of SEED.instances) {
    instances.push(
      (await findByName<Instance>(tenant, "/v1/instances", name)) ??
        (await tenant.request<Instance>("POST", "/v1/instances", { body: { name, subnetId: subnet.id } })),
    );
  }
  const idOf = (name: string) => instances.find((i) => i.name === name)?.id ?? name;
  let havip =
    (await findByName<HaVip>(tenant, "/v1/havips", SEED.havip.name)) ??
    (await tenant.request<HaVip>("POST", "/v1/havips", {
      body: {
        subnetId: subnet.id,
        ipAddress: SEED.havip.ip,
        name: SEED.havip.name,
        members: SEED.havip.members.map(idOf),
      },
    }));
  let eip: Eip;
  if (havip.eip === null) {
    eip = await tenant.request<Eip>("POST", "/v1/eips", { body: { region: SEED.region } });
    await tenant.request("POST", path("/v1/eips", eip.id, "/associate"), { body: { havipId: havip.id } });
    havip = await tenant.get<HaVip>(path("/v1/havips", havip.id));
  } else {
    eip = await tenant.get<Eip>(path("/v1/eips", havip.eip.id));
  }
  return { token, subnet, instances, havip, eip };
}

/** The internet host's on-link network (INTERNET_DEFAULTS: 203.0.113.10/24 via the edge 203.0.113.1). */
const INTERNET_CIDR = "203.0.113.0/24";

/**
 * Starts a lab process unless it really runs (not merely a recorded pid: after a reboot pids mean nothing).
 * Returns what was restarted, for the report: a process that was recorded and is not running.
 */
async function ensureRunning(lab: Lab, name: string, label: string, start: () => Promise<unknown>) {
  const record = lab.processRecord(name, label);
  if (record !== undefined && lab.processRunning(record)) return [];
  await labAwait(start);
  if (record === undefined) return [];
  return [`restarted ${label} in ${name} (pid ${String(record.pid)} was not running)`];
}

/** Attaches the internet host (if not yet) and registers it as the fabric's internet edge. */
async function ensureInternet(lab: Lab, admin: ApiClient): Promise<string[]> {
  let record = lab.state.instances.find((i) => i.name === "internet");
  if (record === undefined) {
    // The edge havipd has recorded keeps its VNI (a lab record lost while havipd kept its attachments).
    const { internet } = await admin.get<{ internet: { vni?: number; remoteAddress?: string } | null }>(
      "/v1/fabric/internet",
    );
    const used = await usedVnis(lab, admin);
    const recorded = internet?.remoteAddress === UNDERLAY.underlayAddress ? internet.vni : undefined;
    const vni =
      recorded !== undefined && !lab.state.instances.some((i) => i.vni === recorded) ? recorded : freeVni(used);
    record = await labAwait(() => lab.attachInternet({ vni }));
  }
  await admin.request("PUT", "/v1/fabric/internet", {
    body: {
      ip: INTERNET_DEFAULTS.gateway,
      cidr: INTERNET_CIDR,
      gateway: null,
      remoteAddress: UNDERLAY.underlayAddress,
      remotePort: UNDERLAY.vxlanPort,
      vni: record.vni,
    },
  });
  return ensureRunning(lab, "internet", "echo-service", () => lab.startEchoService());
}

/** The labels of the processes the seed example starts itself (with its own readiness checks). */
const SEED_LABELS = new Set(["keepalived", "http-service", "echo-service"]);
/** havipd's own process in the lab: havipd starts and replaces it, `lab up` leaves it alone. */
const AGENT_LABEL = "fabric-agent";

export interface SeedUp extends SeedResources {
  holder: string | null;
  /** Namespaces the lab made again (gone after a reboot), and lab processes started again. */
  remade: string[];
  restarted: string[];
}

/**
 * Brings the whole seed example up, also after a reboot: namespaces the lab recorded and the machine lacks are
 * made again, processes recorded and not running are started again. Returns what exists, for printing.
 */
export async function seedExampleUp(lc: LabContext): Promise<SeedUp> {
  labCall(() => {
    requirePrograms(["keepalived"]);
  });
  const admin = await lc.admin();
  const lab = lc.lab();
  const remade = await labAwait(() => lab.restore());
  const seed = await ensureSeedResources(lc, admin);
  for (const instance of seed.instances) await attachApiInstance(lab, admin, instance.id);
  const restarted = await ensureInternet(lab, admin);
  for (const [name, priority] of Object.entries(SEED.priorities)) {
    const labName = labNameOf(name);
    restarted.push(...(await ensureRunning(lab, labName, "http-service", () => lab.startHttpService(labName))));
    restarted.push(
      ...(await ensureRunning(lab, labName, "keepalived", () =>
        lab.startKeepalived(labName, seedKeepalived(priority)),
      )),
    );
  }
  restarted.push(...restartOthers(lab));
  const tenant = await lc.as(seed.token);
  const nameOf = (id: string | undefined) => seed.instances.find((i) => i.id === id)?.name;
  // The stored holder may be one from before a restart: wait until the instance the API names has the address.
  let havip = seed.havip;
  for (let waited = 0; waited < 15_000; waited += 100) {
    havip = await tenant.get<HaVip>(path("/v1/havips", havip.id));
    const holder = nameOf(havip.holder?.instanceId);
    if (holder !== undefined && (await hasAddress(lab, labNameOf(holder), havip.ipAddress))) break;
    await sleep(100);
  }
  return { ...seed, havip, holder: nameOf(havip.holder?.instanceId) ?? null, remade, restarted };
}

async function hasAddress(lab: Lab, name: string, ip: string): Promise<boolean> {
  if (!lab.state.instances.some((i) => i.name === name)) return false;
  const addresses = await lab.addresses(name).catch(() => []);
  return addresses.some((a) => a.address === ip);
}

/** Any other recorded lab process that is not running, started again with its recorded command. */
function restartOthers(lab: Lab): string[] {
  const restarted: string[] = [];
  for (const record of lab.processes()) {
    if (SEED_LABELS.has(record.label) || record.label === AGENT_LABEL || lab.processRunning(record)) continue;
    const p = labCall(() => lab.restartProcess(record));
    const where = lab.state.instances.find((i) => i.namespace === record.namespace)?.name ?? record.namespace;
    restarted.push(
      `restarted ${record.label} in ${where} (pid ${String(record.pid)} was not running; now ${String(p.pid)})`,
    );
  }
  return restarted;
}
