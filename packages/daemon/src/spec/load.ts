// The whole spec at start: every resource the fabric needs, read through the services as the operator (all
// pages), so the fabric restores forwarding and each HAVIP's last known holder from the store.
import type { Actor, ControlService, ListOptions, Page } from "@havip/control";
import type { InternetSpec, NetworkSpec } from "@havip/fabric";
import { eipSpec, havipSpec, subnetSpec, vnicSpec, vpcSpec, type ChangeCompiler } from "./compile.ts";

const OPERATOR: Actor = { kind: "operator" };
const PAGE = 1000;

async function all<T>(list: (opts: ListOptions) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<T> = await list({ limit: PAGE, cursor });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return items;
}

export interface FabricLocal {
  routerMac: string;
  internet: InternetSpec | null;
}

export async function loadNetworkSpec(
  service: ControlService,
  local: FabricLocal,
  compiler: ChangeCompiler,
): Promise<NetworkSpec> {
  const [vpcs, subnets, instances, havips, eips] = await Promise.all([
    all((o) => service.listVpcs(OPERATOR, o)),
    all((o) => service.listSubnets(OPERATOR, o)),
    all((o) => service.listInstances(OPERATOR, o)),
    all((o) => service.listHaVips(OPERATOR, o)),
    all((o) => service.listEips(OPERATOR, o)),
  ]);
  for (const i of instances) compiler.rememberInstance(i);
  return {
    routerMac: local.routerMac,
    internet: local.internet,
    vpcs: vpcs.map(vpcSpec),
    subnets: subnets.map(subnetSpec),
    vnics: instances.flatMap((i) => i.vnics.map(vnicSpec)),
    havips: havips.map(havipSpec),
    eips: eips.map(eipSpec),
  };
}
