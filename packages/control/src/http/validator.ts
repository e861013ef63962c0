// Request validation with TypeBox's compiler. Bodies are checked as they are (no coercion: "5" is not 5).
// Query strings arrive as text; only plain decimal integers become numbers for integer fields, so
// `limit=1.5`, `limit=0x10` or `limit=1e2` are refused instead of being quietly read as 1, 16 or 100.
import type { FastifySchemaCompiler, FastifySchemaValidationError } from "fastify";
import type { TSchema } from "typebox";
import { Compile } from "typebox/compile";

const DECIMAL = /^(0|-?[1-9]\d{0,14})$/;

interface ObjectSchemaLike {
  properties?: Record<string, { type?: unknown }>;
}

function convertQuery(schema: TSchema, value: unknown): unknown {
  const properties = (schema as ObjectSchemaLike).properties;
  if (!properties || value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [name, property] of Object.entries(properties)) {
    const raw = out[name];
    if (property.type === "integer" && typeof raw === "string" && DECIMAL.test(raw)) out[name] = Number(raw);
  }
  return out;
}

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema);
  return (value: unknown) => {
    const converted = httpPart === "querystring" ? convertQuery(schema, value) : value;
    if (check.Check(converted)) return { value: converted };
    // TypeBox reports issues in the Ajv shape fastify expects (keyword, instancePath, schemaPath, params).
    return { error: check.Errors(converted) as unknown as FastifySchemaValidationError[] };
  };
};
