// havipd's operator endpoints for the fabric's local state: vNIC attachments, the internet edge, counters.
// Registered on the API server before it listens, so they share its auth hook (`access: "operator"`), its
// JSON body parser and its error handler (ApiError → {"error": {code, message, requestId}}).
import { ApiError, type buildApiServer, type ControlService } from "@havip/control";
import { SpecError } from "@havip/fabric";
import { registerHaVipCountersRoute } from "./havip-counters-route.ts";
import type { Attachment, InternetEdge } from "./local-state.ts";
import { AttachmentRefused, EDGE_MAC, NoVxlanListener, type FabricRuntime } from "./runtime.ts";

type ApiServer = Awaited<ReturnType<typeof buildApiServer>>;

const OPERATOR = { access: "operator" } as const;
const VNIC_ID = /^eni-[0-9a-f]{17}$/;
const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
/** A Linux interface name: 1–15 characters, no '/', ':', whitespace; not "." or "..". */
const INTERFACE = /^(?!\.\.?$)[A-Za-z0-9_.-]{1,15}$/;
const VXLAN_PORT = 4789;

function invalid(message: string): never {
  throw new ApiError("InvalidParameter", message);
}

function object(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) invalid("The request body must be an object.");
  return body as Record<string, unknown>;
}

function only(body: Record<string, unknown>, allowed: readonly string[]): void {
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  if (extra.length > 0) invalid(`Unknown field ${extra.map((k) => `"${k}"`).join(", ")}.`);
}

function address(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (typeof v !== "string" || !DOTTED_QUAD.test(v)) invalid(`${field} must be an IPv4 address in dotted-quad form.`);
  return v;
}

function integer(body: Record<string, unknown>, field: string, min: number, max: number, fallback?: number): number {
  const v = body[field] ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    invalid(`${field} must be an integer from ${min} to ${max}.`);
  }
  return v;
}

function vxlanAttachmentOf(body: Record<string, unknown>) {
  return {
    remoteAddress: address(body, "remoteAddress"),
    remotePort: integer(body, "remotePort", 1, 65535, VXLAN_PORT),
    vni: integer(body, "vni", 0, 0xffffff),
  };
}

const ATTACHMENT_FIELDS = ["remoteAddress", "remotePort", "vni"] as const;

/**
 * A vNIC attachment: VXLAN `{remoteAddress, remotePort?, vni}`, or veth `{interface}` (an interface in the
 * fabric's namespace); `kind` ("vxlan" or "veth") may say which, and must agree with the fields.
 */
function attachmentOf(body: Record<string, unknown>): Attachment {
  const kind = body.kind ?? ("interface" in body ? "veth" : "vxlan");
  if (kind === "veth") {
    only(body, ["kind", "interface"]);
    const name = body.interface;
    if (typeof name !== "string" || !INTERFACE.test(name)) {
      invalid("interface must be an interface name (1–15 letters, digits, '_', '.' or '-').");
    }
    return { kind: "veth", interface: name };
  }
  if (kind !== "vxlan") invalid('kind must be "vxlan" or "veth".');
  only(body, ["kind", ...ATTACHMENT_FIELDS]);
  return vxlanAttachmentOf(body); // stored without `kind`, as before veth existed
}

function internetOf(body: Record<string, unknown>): InternetEdge {
  only(body, [...ATTACHMENT_FIELDS, "ip", "cidr", "gateway", "mac"]);
  const cidr = body.cidr;
  if (typeof cidr !== "string" || !/^[\d.]+\/\d{1,2}$/.test(cidr)) invalid("cidr must be an IPv4 CIDR block.");
  const mac = body.mac ?? EDGE_MAC;
  if (typeof mac !== "string" || !MAC.test(mac)) invalid('mac must be a MAC address ("02:00:00:00:ff:01").');
  return {
    ...vxlanAttachmentOf(body),
    ip: address(body, "ip"),
    cidr,
    gateway: body.gateway === undefined || body.gateway === null ? null : address(body, "gateway"),
    mac,
  };
}

/** Failures of the fabric side become API errors; anything else goes to the generic handler. */
function fabricError(e: unknown): never {
  if (e instanceof NoVxlanListener || e instanceof AttachmentRefused) invalid(`${e.message}.`);
  if (e instanceof SpecError) invalid(`The fabric refused it: ${e.problems.join("; ")}.`);
  if (e instanceof Error && /already attached|exists|cannot attach interface/.test(e.message)) invalid(e.message);
  throw e;
}

export function registerFabricRoutes(app: ApiServer, runtime: FabricRuntime, service: ControlService): void {
  const listing = () => ({
    listen: runtime.vxlan,
    items: Object.entries(runtime.attachments()).map(([vnicId, a]) => ({ vnicId, ...a })),
  });

  app.get("/v1/fabric/attachments", { config: OPERATOR, schema: { hide: true } }, () => listing());

  app.put<{ Params: { vnicId: string } }>(
    "/v1/fabric/attachments/:vnicId",
    { config: OPERATOR, schema: { hide: true } },
    async (request) => {
      const { vnicId } = request.params;
      if (!VNIC_ID.test(vnicId)) throw new ApiError("InvalidId", `"${vnicId}" is not a vNIC id (eni-…).`);
      const attachment = attachmentOf(object(request.body));
      // Only vNICs that exist: the control plane answers NotFound otherwise.
      await service.getVnic({ kind: "operator" }, vnicId);
      await runtime.attach(vnicId, attachment).catch(fabricError);
      return { vnicId, ...attachment };
    },
  );

  app.delete<{ Params: { vnicId: string } }>(
    "/v1/fabric/attachments/:vnicId",
    { config: OPERATOR, schema: { hide: true } },
    async (request, reply) => {
      const { vnicId } = request.params;
      if (!(await runtime.detach(vnicId))) throw new ApiError("NotFound", `vNIC ${vnicId} is not attached.`);
      return reply.code(204).send();
    },
  );

  app.get("/v1/fabric/internet", { config: OPERATOR, schema: { hide: true } }, () => ({
    internet: runtime.internet(),
  }));

  app.put("/v1/fabric/internet", { config: OPERATOR, schema: { hide: true } }, async (request) => {
    const edge = internetOf(object(request.body));
    await runtime.setInternet(edge).catch(fabricError);
    return { internet: edge };
  });

  app.delete("/v1/fabric/internet", { config: OPERATOR, schema: { hide: true } }, async (_request, reply) => {
    await runtime.setInternet(null).catch(fabricError);
    return reply.code(204).send();
  });

  app.get("/v1/fabric/counters", { config: OPERATOR, schema: { hide: true } }, () => runtime.counters());

  // The tenant's view of one HAVIP's counters (the console polls it).
  registerHaVipCountersRoute(app, runtime, service);
}
