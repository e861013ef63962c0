export * from "./ipv4.ts";
export * from "./cidr.ts";
export * from "./allocate.ts";
