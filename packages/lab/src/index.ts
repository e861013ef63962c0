// The Linux lab: network namespaces attached to the fabric as instances over kernel VXLAN (or veth), an internet
// namespace, and real failover software (keepalived) running in them. Needs root.
export { createLab, openLab, Lab, LabProcess, INTERNET_DEFAULTS } from "./lab.ts";
export type { LabOptions, InstanceSpec, InternetSpec, AttachedInstance, SpawnInOptions } from "./lab.ts";
export { labDown } from "./down.ts";
export type { DownOptions, DownReport } from "./down.ts";
export { LabError, isLabError, LAB_ERROR_CATALOGUE, DEBIAN_PACKAGE_OF } from "./errors.ts";
export type { LabErrorCode, LabProgram } from "./errors.ts";
export { UNDERLAY } from "./underlay.ts";
export type { LabEndpoint, VethEndpoint, VxlanEndpoint } from "./underlay.ts";
export { DEFAULT_PREFIX, ROLES, vethFabricName } from "./names.ts";
export type { Role } from "./names.ts";
export { renderKeepalivedConfig, checkKeepalivedConfig } from "./keepalived-config.ts";
export type { KeepalivedConfig, VrrpInstance, VirtualAddress } from "./keepalived-config.ts";
export { parseKeepalivedLog, currentVrrpState } from "./keepalived-log.ts";
export type { KeepalivedEvent, VrrpState } from "./keepalived-log.ts";
export type { InterfaceAddress, LinkInfo } from "./interfaces.ts";
export type { ProcStat, StopOutcome } from "./proc.ts";
export { readProcStat } from "./proc.ts";
export type { LabState, InstanceRecord, ProcessRecord, NamespaceRecord, LinkRecord } from "./state.ts";
export { requireRoot, requirePrograms, findProgram } from "./preflight.ts";
export { httpAnswer } from "./services/http-service.ts";
export { echoAnswer } from "./services/echo-service.ts";
export type { EchoAnswer } from "./services/echo-service.ts";
export type { RunResult, RunOptions } from "./run.ts";
