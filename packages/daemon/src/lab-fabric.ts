// --lab-dir: havipd sets up the Linux lab's fabric itself (DESIGN §7). It creates (or reuses) the lab's
// fabric and underlay namespaces through @havip/lab, starts the fabric agent inside the fabric namespace on
// the lab's fabric endpoint, and hands its Unix socket to the agent-driven fabric. On shutdown it stops the
// agent; the namespaces and attached instances stay until `havip lab down`.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createLab, isLabError, openLab, requireRoot } from "@havip/lab";
import type { Lab, LabProcess } from "@havip/lab";
import type { Logger } from "pino";
import { StartupError } from "./startup-error.ts";

const AGENT = fileURLToPath(new URL("./agent/main.ts", import.meta.url));
const AGENT_LABEL = "fabric-agent";
const AGENT_READY_MS = 20_000;

export interface LabFabricOptions {
  /** The lab's state directory (lab-state.json, logs, the agent's socket). */
  dir: string;
  /** Prefix of the lab's namespaces (default "hvl-"). */
  prefix: string;
}

export interface LabFabric {
  lab: Lab;
  /** The fabric agent's Unix socket, for the agent-driven fabric. */
  socket: string;
  /** Stops the agent (namespaces and instances stay). */
  stop(): Promise<void>;
}

/** The agent's socket in a lab directory. */
export function agentSocketOf(dir: string): string {
  return join(resolve(dir), "fabric-agent.sock");
}

export async function startLabFabric(options: LabFabricOptions, logger: Logger): Promise<LabFabric> {
  try {
    requireRoot("create the lab's network namespaces and run the fabric agent in them (--lab-dir)");
  } catch (e) {
    throw new StartupError(`--lab-dir needs root: ${e instanceof Error ? e.message : String(e)}`);
  }
  const dir = resolve(options.dir);
  let lab: Lab;
  try {
    lab = await openOrCreate(dir, options.prefix);
  } catch (e) {
    throw new StartupError(`lab in ${dir}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const socket = agentSocketOf(dir);
  // A previous havipd's agent (after a crash) is replaced: one agent per lab, on a fresh socket.
  await lab.stopProcess("fabric", AGENT_LABEL);
  const { address, port } = lab.fabricEndpoint;
  let agent: LabProcess;
  try {
    agent = lab.spawn("fabric", process.execPath, [AGENT, "--socket", socket, "--vxlan", `${address}:${port}`], {
      label: AGENT_LABEL,
    });
    await agent.waitForLog(/"ready":true/, AGENT_READY_MS);
  } catch (e) {
    await lab.stopProcess("fabric", AGENT_LABEL);
    throw new StartupError(`the fabric agent did not start in ${lab.fabricNs}: ${firstLine(e)}`);
  }
  logger.info(
    { labDir: dir, namespace: lab.fabricNs, socket, pid: agent.pid },
    `fabric agent started in namespace ${lab.fabricNs} on ${address}:${port}`,
  );
  return {
    lab,
    socket,
    stop: async () => {
      // The lab's record changes under havipd (`havip lab …` attaches instances): stop the agent through
      // a fresh copy of it, and not at all once `havip lab down` has removed the lab (and the agent with it).
      if (!existsSync(join(dir, "lab-state.json"))) return;
      await openLab({ stateDir: dir }).stopProcess("fabric", AGENT_LABEL);
      logger.info({ namespace: lab.fabricNs }, "fabric agent stopped (the lab stays; `havip lab down` removes it)");
    },
  };
}

async function openOrCreate(dir: string, prefix: string): Promise<Lab> {
  if (existsSync(join(dir, "lab-state.json"))) {
    const lab = openLab({ stateDir: dir });
    if (lab.prefix !== prefix) {
      throw new Error(`the lab there has prefix ${lab.prefix}, not ${prefix}`);
    }
    if (namespaceExists(lab.fabricNs) && namespaceExists(lab.underlayNs)) return lab;
  }
  try {
    return await createLab({ stateDir: dir, prefix });
  } catch (e) {
    if (isLabError(e)) throw new Error(e.message, { cause: e });
    throw e;
  }
}

function namespaceExists(name: string): boolean {
  return existsSync(join("/run/netns", name));
}

function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split("\n")[0] ?? message;
}
