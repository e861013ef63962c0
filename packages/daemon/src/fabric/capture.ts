// POST /v1/captures: records what the fabric sees on a vNIC's port, on a HAVIP's address, or on the internet
// port, and answers the pcap file (tcpdump -r reads it). The operator may capture anything; a project token
// its own vNICs and HAVIPs only (another project's are NotFound, as everywhere in the API); the internet port
// is the operator's.
import { ApiError, type Actor, type buildApiServer, type ControlService } from "@havip/control";
import { UnknownCaptureTarget, type CaptureTarget } from "@havip/fabric";
import { portOfVnic } from "../spec/compile.ts";
import { CAPTURE_MAX_FRAMES, CAPTURE_MAX_TIMEOUT_MS, type CaptureRequest } from "./capture-session.ts";
import { INTERNET_PORT, type FabricRuntime } from "./runtime.ts";

type ApiServer = Awaited<ReturnType<typeof buildApiServer>>;

export const PCAP_MEDIA_TYPE = "application/vnd.tcpdump.pcap";
export const CAPTURE_DEFAULT_COUNT = 100;
export const CAPTURE_DEFAULT_TIMEOUT_MS = 10_000;

const VNIC_ID = /^eni-[0-9a-f]{17}$/;
const HAVIP_ID = /^havip-[0-9a-f]{17}$/;
const FIELDS = ["target", "count", "timeoutMs"];
const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

function invalid(message: string): never {
  throw new ApiError("InvalidParameter", message);
}

function integer(body: Record<string, unknown>, field: string, max: number, fallback: number): number {
  const v = body[field] ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max) {
    invalid(`${field} must be an integer from 1 to ${max}.`);
  }
  return v;
}

/** The body as a capture of `target` (still a string: resolved against the caller's rights next). */
export function parseCaptureBody(body: unknown): { target: string; count: number; timeoutMs: number } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) invalid("The request body must be an object.");
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).filter((k) => !FIELDS.includes(k));
  if (extra.length > 0) invalid(`Unknown field ${extra.map((k) => `"${k}"`).join(", ")}.`);
  if (typeof b.target !== "string") invalid('target must be a vNIC id (eni-…), a HAVIP id (havip-…) or "internet".');
  return {
    target: b.target,
    count: integer(b, "count", CAPTURE_MAX_FRAMES, CAPTURE_DEFAULT_COUNT),
    timeoutMs: integer(b, "timeoutMs", CAPTURE_MAX_TIMEOUT_MS, CAPTURE_DEFAULT_TIMEOUT_MS),
  };
}

/** What the fabric taps for `target`, once the caller may see it (NotFound otherwise). */
async function resolveTarget(
  service: ControlService,
  runtime: FabricRuntime,
  actor: Actor,
  target: string,
): Promise<CaptureTarget> {
  if (target === "internet") {
    if (actor.kind !== "operator")
      throw new ApiError("Forbidden", "Capturing on the internet port needs the operator token.");
    if (runtime.internet() === null) throw new ApiError("NotFound", "The fabric has no internet edge.");
    return { kind: "port", portId: INTERNET_PORT };
  }
  if (VNIC_ID.test(target)) {
    await service.getVnic(actor, target); // NotFound for unknown ids and other projects' vNICs
    return { kind: "port", portId: portOfVnic(target) };
  }
  if (HAVIP_ID.test(target)) {
    await service.getHaVip(actor, target);
    return { kind: "havip", havipId: target };
  }
  throw new ApiError("InvalidId", `"${target}" is not a capture target (a vNIC id, a HAVIP id or "internet").`);
}

export function registerCaptureRoute(app: ApiServer, runtime: FabricRuntime, service: ControlService): void {
  app.post("/v1/captures", { config: { access: "reader" }, schema: { hide: true } }, async (request, reply) => {
    // The auth hook checked the token; the actor decides which targets are visible.
    const actor = await service.authenticate(BEARER.exec(request.headers.authorization ?? "")?.[1] ?? "");
    if (actor === null) throw new ApiError("Unauthorized", "The bearer token is not valid.");
    const body = parseCaptureBody(request.body);
    // A client that goes away ends its capture (in the agent too): nobody would read the pcap.
    const gone = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) gone.abort();
    };
    reply.raw.once("close", onClose);
    const capture: CaptureRequest = {
      target: await resolveTarget(service, runtime, actor, body.target),
      count: body.count,
      timeoutMs: body.timeoutMs,
      signal: gone.signal,
    };
    request.log.info({ target: body.target, count: body.count, timeoutMs: body.timeoutMs }, "capture started");
    const result = await runtime.capture(capture).catch((e: unknown) => {
      if (e instanceof UnknownCaptureTarget) throw new ApiError("NotFound", `The fabric does not know ${body.target}.`);
      throw e;
    });
    if (gone.signal.aborted) {
      request.log.info({ target: body.target, frames: result.frames }, "capture cancelled: the client went away");
      return reply.code(499).send(); // nginx's "client closed request": nobody reads it, the logs and metrics do
    }
    reply.raw.off("close", onClose);
    request.log.info({ target: body.target, frames: result.frames, truncated: result.truncated }, "capture ended");
    return reply
      .type(PCAP_MEDIA_TYPE)
      .header("content-disposition", `attachment; filename="${body.target}.pcap"`)
      .header("x-capture-frames", String(result.frames))
      .header("x-capture-truncated", String(result.truncated))
      .send(Buffer.from(result.pcap));
  });
}
