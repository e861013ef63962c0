// GET /v1/havips/{id}/counters: what the fabric counted for one HAVIP, for the project that owns it (the
// console's HAVIP page polls it). The fabric knows nothing of projects, so ownership is the control plane's
// answer: getHaVip throws NotFound for another project's HAVIP, exactly as the tenant routes do.
import { ApiError, type Actor, type buildApiServer, type ControlService } from "@havip/control";
import type { HaVipCounters } from "@havip/fabric";
import type { FabricRuntime } from "./runtime.ts";

type ApiServer = Awaited<ReturnType<typeof buildApiServer>>;

/** The counters of one HAVIP as the tenant sees them (no fabric-internal port ids). */
export interface HaVipCountersView {
  havipId: string;
  holderVnicId: string | null;
  generation: number;
  delivered: number;
  claims: number;
  holderChanges: number;
  deniedClaims: number;
  stormGuarded: number;
  fenced: number;
  /** Verification rounds, the probes they sent and the answers they got (cost and health of verification). */
  verifications: number;
  probesSent: number;
  probeAnswers: number;
  /** Holder changes verification made, holders it released, claims ignored while contested. */
  verifiedChanges: number;
  withdrawals: number;
  contestDamped: number;
  /** When the fabric took the snapshot (ISO 8601). */
  at: string;
}

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/** The caller again: the auth hook has checked the token, but keeps the actor to the control package. */
async function callerOf(service: ControlService, header: string | undefined): Promise<Actor> {
  const token = header === undefined ? null : (BEARER.exec(header)?.[1] ?? null);
  const actor = token === null ? null : await service.authenticate(token);
  if (actor === null) throw new ApiError("Unauthorized", "The bearer token is not valid.");
  return actor;
}

/** A HAVIP the fabric has not compiled yet (created a moment ago) has counted nothing. */
const ZERO: Omit<HaVipCounters, "holderVnicId" | "generation" | "contest"> = {
  delivered: 0,
  claims: 0,
  holderChanges: 0,
  deniedClaims: 0,
  stormGuarded: 0,
  fenced: 0,
  verifications: 0,
  probesSent: 0,
  probeAnswers: 0,
  verifiedChanges: 0,
  withdrawals: 0,
  contestDamped: 0,
};

export function registerHaVipCountersRoute(app: ApiServer, runtime: FabricRuntime, service: ControlService): void {
  app.get<{ Params: { id: string } }>(
    "/v1/havips/:id/counters",
    { config: { access: "reader" }, schema: { hide: true } },
    async (request): Promise<HaVipCountersView> => {
      const actor = await callerOf(service, request.headers.authorization);
      const havip = await service.getHaVip(actor, request.params.id); // InvalidId, NotFound (other project)
      const { fabric } = await runtime.counters();
      const c = fabric.havips[havip.id];
      return {
        havipId: havip.id,
        holderVnicId: c?.holderVnicId ?? havip.holder?.vnicId ?? null,
        generation: c?.generation ?? havip.generation,
        delivered: c?.delivered ?? ZERO.delivered,
        claims: c?.claims ?? ZERO.claims,
        holderChanges: c?.holderChanges ?? ZERO.holderChanges,
        deniedClaims: c?.deniedClaims ?? ZERO.deniedClaims,
        stormGuarded: c?.stormGuarded ?? ZERO.stormGuarded,
        fenced: c?.fenced ?? ZERO.fenced,
        verifications: c?.verifications ?? ZERO.verifications,
        probesSent: c?.probesSent ?? ZERO.probesSent,
        probeAnswers: c?.probeAnswers ?? ZERO.probeAnswers,
        verifiedChanges: c?.verifiedChanges ?? ZERO.verifiedChanges,
        withdrawals: c?.withdrawals ?? ZERO.withdrawals,
        contestDamped: c?.contestDamped ?? ZERO.contestDamped,
        at: new Date(Math.round(fabric.at)).toISOString(),
      };
    },
  );
}
