export * from "./model.ts";
export * from "./errors.ts";
export * from "./service.ts";
