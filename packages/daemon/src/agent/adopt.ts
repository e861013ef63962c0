// havipd never replaces a fabric agent that works: at start it adopts the agent already running on its socket
// when that process is there (not a recorded pid: the process itself) and its socket answers hello with this
// protocol version in time. Anything else — no agent, several, a dead socket, a hung agent, another version —
// is killed and a fresh agent started.
import type { AgentProcess } from "./agent-process.ts";

export type AdoptDecision<C> =
  { action: "adopt"; agent: AgentProcess; connection: C } | { action: "start"; reason: string; stale: AgentProcess[] };

/**
 * `running`: the live processes that are the agent on this socket. `hello`: connects to the socket and says
 * hello, rejecting when it is not answered with this protocol version within the timeout.
 */
export async function adoptOrStart<C>(running: AgentProcess[], hello: () => Promise<C>): Promise<AdoptDecision<C>> {
  const [only] = running;
  if (only === undefined) return { action: "start", reason: "no fabric agent was running", stale: [] };
  if (running.length > 1) {
    const pids = running.map((p) => p.pid).join(", ");
    return {
      action: "start",
      reason: `several fabric agents were running on the socket (pids ${pids})`,
      stale: running,
    };
  }
  try {
    return { action: "adopt", agent: only, connection: await hello() };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return {
      action: "start",
      reason: `the running fabric agent (pid ${only.pid}) did not answer: ${why}`,
      stale: running,
    };
  }
}
