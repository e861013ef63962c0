// The one place where failures become responses: every error leaves as
// `{"error": {"code", "message", "requestId"}}` with the catalogue's status. Fastify's own errors
// (validation, body parsing, limits) are mapped to catalogue codes, a database outage to 503
// ServiceUnavailable.Store; anything unexpected is logged with its request id and answered 500 InternalError
// without details.
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ApiError, isApiError, type ErrorCode } from "../errors.ts";
import { storeUnavailableError } from "../store/index.ts";
import { ID_PATTERNS } from "./ids.ts";
import type { ErrorBody } from "./schemas.ts";

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

type ValidationContext = "body" | "querystring" | "params" | "headers";

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: "MalformedRequest",
  FST_ERR_CTP_EMPTY_JSON_BODY: "MalformedRequest",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "MalformedRequest",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "UnsupportedMediaType",
  FST_ERR_CTP_BODY_TOO_LARGE: "PayloadTooLarge",
  FST_ERR_NOT_FOUND: "NotFound",
};

const BY_STATUS: Record<number, ErrorCode> = {
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  413: "PayloadTooLarge",
  415: "UnsupportedMediaType",
};

function isFastifyError(e: unknown): e is FastifyError {
  return e instanceof Error && typeof (e as Partial<FastifyError>).code === "string";
}

function issuesOf(e: FastifyError): ValidationIssue[] {
  // Both the TypeBox and the Ajv validator report issues in this shape.
  return e.validation ?? [];
}

function stringList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return typeof value === "string" ? [value] : [];
}

function where(context: string, path: string): string {
  return `${context}${path}`;
}

function describeIssue(context: string, issue: ValidationIssue): string | null {
  const at = where(context, issue.instancePath);
  switch (issue.keyword) {
    case "additionalProperties": {
      const names = stringList(issue.params.additionalProperties ?? issue.params.additionalProperty);
      return names.map((n) => `${at} has an unknown field '${n}'`).join("; ") || `${at} has an unknown field`;
    }
    case "required": {
      const names = stringList(issue.params.requiredProperties ?? issue.params.missingProperty);
      return names.map((n) => `${at} is missing the required field '${n}'`).join("; ") || `${at} misses a field`;
    }
    case "pattern":
      if (typeof issue.params.pattern === "string" && ID_PATTERNS.has(issue.params.pattern)) {
        const prefix = /^\^\(?([a-z|]+)\)?-/.exec(issue.params.pattern)?.[1]?.replaceAll("|", "-… or ") ?? "";
        return `${at} is not a valid id (expected ${prefix}-…)`;
      }
      return `${at} ${issue.message ?? "has the wrong form"}`;
    case "boolean": // "schema is false": the same fact as the additionalProperties issue beside it
    case "anyOf":
    case "oneOf":
      return null;
    default:
      return `${at} ${issue.message ?? "is not valid"}`;
  }
}

interface UnionBranch {
  issues: ValidationIssue[];
  wrongShape: boolean; // only "is not even of this type": the value was clearly meant for another branch
}

const isIdIssue = (i: ValidationIssue) =>
  i.keyword === "pattern" && typeof i.params.pattern === "string" && ID_PATTERNS.has(i.params.pattern);

/**
 * A union (anyOf) reports the failures of every branch. Keep only the branch(es) closest to the value:
 * the fewest issues, ignoring branches of another type altogether (null vs array).
 */
function closestBranches(issues: ValidationIssue[]): ValidationIssue[][] {
  const inUnion = /^(.*?)\/anyOf\/(\d+)(?:\/|$)/;
  const unions = new Map<string, Map<string, UnionBranch>>();
  const outside: ValidationIssue[] = [];
  for (const issue of issues) {
    const schemaPath = (issue as { schemaPath?: string }).schemaPath ?? "";
    const m = inUnion.exec(schemaPath);
    if (!m || issue.keyword === "anyOf") {
      if (issue.keyword !== "anyOf") outside.push(issue);
      continue;
    }
    const [, parent = "", branch = ""] = m;
    const branches = unions.get(parent) ?? new Map<string, UnionBranch>();
    unions.set(parent, branches);
    const b = branches.get(branch) ?? { issues: [], wrongShape: true };
    branches.set(branch, b);
    if (issue.keyword === "boolean") continue;
    b.issues.push(issue);
    if (issue.keyword !== "type" || schemaPath !== `${parent}/anyOf/${branch}`) b.wrongShape = false;
  }
  if (unions.size === 0) return [outside];
  const [branches] = unions.values(); // the outermost union decides; nested ones are rare here
  let candidates = [...(branches ?? new Map<string, UnionBranch>()).values()];
  if (candidates.some((b) => !b.wrongShape)) candidates = candidates.filter((b) => !b.wrongShape);
  const fewest = Math.min(...candidates.map((b) => b.issues.length));
  return candidates.filter((b) => b.issues.length === fewest).map((b) => [...outside, ...b.issues]);
}

/** A validation failure as a catalogue error whose message names the field(s). */
export function validationError(e: FastifyError): ApiError {
  const context: ValidationContext | "request" = e.validationContext ?? "request";
  const alternatives = closestBranches(issuesOf(e));
  const describe = (issues: ValidationIssue[]) =>
    [...new Set(issues.map((i) => describeIssue(context, i)).filter((t) => t !== null))].slice(0, 4).join("; ");
  const texts = alternatives.map(describe).filter((t) => t !== "");
  const message = texts.length === 0 ? e.message : texts.join(", or ");
  // An id of the wrong kind or form is InvalidId, when it is the only thing wrong.
  const onlyIds = alternatives.every((issues) => issues.length > 0 && issues.every(isIdIssue));
  return new ApiError(onlyIds ? "InvalidId" : "InvalidParameter", message);
}

/** Any thrown value as the catalogue error to answer with. */
export function toApiError(e: unknown): ApiError {
  if (isApiError(e)) return e;
  const unavailable = storeUnavailableError(e);
  if (unavailable) return unavailable;
  if (isFastifyError(e)) {
    if (e.validation) return validationError(e);
    const mapped = FASTIFY_CODES[e.code];
    if (mapped) return new ApiError(mapped, publicMessage(mapped, e));
    const status = e.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code = BY_STATUS[status] ?? "InvalidParameter";
      return new ApiError(code, e.message);
    }
  }
  return new ApiError("InternalError", "An unexpected error occurred; the requestId identifies it in the logs.");
}

function publicMessage(code: ErrorCode, e: FastifyError): string {
  switch (code) {
    case "MalformedRequest":
      return e.code === "FST_ERR_CTP_INVALID_CONTENT_LENGTH"
        ? "The request body does not match its Content-Length."
        : "The request body is not valid JSON.";
    case "UnsupportedMediaType":
      return "Request bodies must be application/json.";
    case "PayloadTooLarge":
      return "The request body is larger than the API accepts.";
    default:
      return e.message;
  }
}

export function errorBody(error: ApiError, requestId: string): ErrorBody {
  return { error: { code: error.code, message: error.message, requestId } };
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: ApiError): FastifyReply {
  if (error.status === 401) reply.header("www-authenticate", 'Bearer realm="havip"');
  return reply.code(error.status).header("x-request-id", request.id).send(errorBody(error, request.id));
}

export function handleError(e: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const error = toApiError(e);
  if (error.code === "InternalError") {
    request.log.error({ err: e, requestId: request.id }, "unexpected error");
  } else if (error.code === "ServiceUnavailable.Store") {
    // The outage is logged by havipd when it starts and ends; per request, its cause in one line is enough.
    const cause = e === error ? {} : { cause: String(e) };
    request.log.info({ code: error.code, requestId: request.id, ...cause }, error.message);
  } else {
    request.log.info({ code: error.code, requestId: request.id }, error.message);
  }
  return sendError(request, reply, error);
}
