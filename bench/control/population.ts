// The benchmark's tenant, loaded through the API as a user would: one project whose HAVIP quota the operator
// raises, VPCs of /16 with /20 subnets (about 1,500 addresses used in each, so no subnet fills up), and instances
// (each with its primary vNIC) spread round-robin over the subnets.
import { type Api, expectStatus, load } from "./client.ts";

export interface Scale {
  vnics: number;
  havips: number;
}

export interface Population {
  projectToken: string;
  subnetIds: string[];
  /** Time to create the instances (their vNICs), ms, and the rate. */
  vnicSetupMs: number;
  vnicRate: number;
}

const SUBNETS_PER_VPC = 8;
const ADDRESSES_PER_SUBNET = 1500;

/** `operator` is an Api holding the operator token; the project's token is set on `tenant`. */
export async function populate(operator: Api, tenant: Api, scale: Scale, concurrency = 64): Promise<Population> {
  const project = await operator.ok<{ token: string }>("POST", "/v1/projects", { name: "bench" }, 201);
  await operator.ok("PUT", "/v1/quotas", { haVipsPerProject: 1_000_000 });
  tenant.token = project.token;
  const subnetCount = Math.max(2, Math.ceil((scale.vnics + scale.havips) / ADDRESSES_PER_SUBNET));
  const subnetIds: string[] = [];
  for (let v = 0; subnetIds.length < subnetCount; v++) {
    const vpc = await tenant.ok<{ id: string }>(
      "POST",
      "/v1/vpcs",
      { cidr: `10.${v}.0.0/16`, region: "region-1" },
      201,
    );
    for (let s = 0; s < SUBNETS_PER_VPC && subnetIds.length < subnetCount; s++) {
      const subnet = await tenant.ok<{ id: string }>(
        "POST",
        "/v1/subnets",
        { vpcId: vpc.id, cidr: `10.${v}.${s * 16}.0/20`, zone: "zone-a" },
        201,
      );
      subnetIds.push(subnet.id);
    }
  }
  const vnics = await load(concurrency, scale.vnics, async (i) =>
    expectStatus(
      await tenant.send("POST", "/v1/instances", { name: `vm-${i}`, subnetId: subnetIds[i % subnetIds.length] }),
      201,
      "create instance",
    ),
  );
  return { projectToken: project.token, subnetIds, vnicSetupMs: vnics.elapsedMs, vnicRate: vnics.rate };
}

/** Creates one HAVIP (auto address) in the i-th subnet, round-robin; returns its id. */
export async function createHaVip(tenant: Api, subnetIds: readonly string[], i: number) {
  const answer = expectStatus(
    await tenant.send("POST", "/v1/havips", { subnetId: subnetIds[i % subnetIds.length] }),
    201,
    "create HAVIP",
  );
  return answer;
}

/** Counts a list through every page (proves the creates really exist); only the items `where` takes, if given. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the items' shape, as the caller knows it
export async function countAll<T = unknown>(api: Api, path: string, where?: (item: T) => boolean): Promise<number> {
  let n = 0;
  let cursor: string | null = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const query: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
    const page: { items: T[]; nextCursor: string | null } = await api.ok("GET", `${path}${sep}limit=1000${query}`);
    n += where === undefined ? page.items.length : page.items.filter(where).length;
    cursor = page.nextCursor;
  } while (cursor !== null);
  return n;
}
