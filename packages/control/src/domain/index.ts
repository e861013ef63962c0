export * from "./ids.ts";
export * from "./macs.ts";
export * from "./tokens.ts";
export * from "./paging.ts";
export * from "./values.ts";
