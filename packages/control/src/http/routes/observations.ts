// A holder reported by hand (operator token): "vNIC X has HAVIP Y since T". The service decides whether the vNIC
// may claim the HAVIP and records a holder change with the next generation (reason `manual`). With a fabric, the
// report is then verified at once — the fabric asks who really has the address — and a wrong report is corrected
// before the answer, which says what the fabric found: a report can no longer black-hole a HAVIP.
import { ApiError } from "../../errors.ts";
import type { Actor, ControlService } from "../../service.ts";
import { type ApiApp, type RouteContext } from "../app.ts";
import { ObservationBody, ObservationResultSchema } from "../schemas.ts";
import { errorResponses } from "./common.ts";

const OPERATOR: Actor = { kind: "operator" };

/** An instance stands for its vNIC in the HAVIP's subnet (what `havip observe <havip> <instance>` means). */
async function vnicOfInstance(service: ControlService, havipId: string, instanceId: string): Promise<string> {
  const havip = await service.getHaVip(OPERATOR, havipId);
  const instance = await service.getInstance(OPERATOR, instanceId);
  const vnic = instance.vnics.find((v) => v.subnetId === havip.subnetId);
  if (!vnic) {
    throw new ApiError("IncorrectState.HolderNotAllowed", `Instance ${instanceId} has no vNIC in the HAVIP's subnet.`);
  }
  return vnic.id;
}

function observedAt(at: string | undefined): Date {
  if (at === undefined) return new Date();
  const date = new Date(at);
  if (Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(at)) {
    throw new ApiError("InvalidParameter", "body/at must be an ISO 8601 date-time.");
  }
  return date;
}

export function registerObservationRoutes(app: ApiApp, ctx: RouteContext): void {
  app.post(
    "/v1/observations",
    {
      config: { access: "operator" },
      schema: {
        tags: ["observations"],
        operationId: "observeHolder",
        summary: "Report a HAVIP's holder by hand (operator); the fabric verifies it at once",
        body: ObservationBody,
        response: { 200: ObservationResultSchema, ...errorResponses },
      },
    },
    async (request) => {
      const body = request.body;
      const at = observedAt(body.at);
      const vnicId = "vnicId" in body ? body.vnicId : await vnicOfInstance(ctx.service, body.havipId, body.instanceId);
      const result = await ctx.service.observeHolder({ havipId: body.havipId, vnicId, at });
      if (ctx.verifyHolder === undefined) return result;
      const verification = await ctx.verifyHolder(body.havipId);
      return { ...result, havip: await ctx.service.getHaVip(OPERATOR, body.havipId), verification };
    },
  );
}
