// keepalived's console log (`-l`), read back as events: VRRP state transitions, start and stop.
// keepalived stamps each line with the local time to the second, e.g.
//   Sat Nov 21 01:00:33 2026: (VI_1) Entering MASTER STATE

export type VrrpState = "MASTER" | "BACKUP" | "FAULT";

export type KeepalivedEvent =
  | { kind: "state"; at: Date; instance: string; state: VrrpState }
  | { kind: "starting" | "stopping" | "stopped"; at: Date };

const LINE = /^(?:\w{3}) (\w{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4}): (.*)$/;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const ENTERING = /^\(([^)\s]+)\) Entering (MASTER|BACKUP|FAULT) STATE\b/;

export function parseKeepalivedLog(text: string): KeepalivedEvent[] {
  const events: KeepalivedEvent[] = [];
  for (const line of text.split("\n")) {
    const m = LINE.exec(line.trimEnd());
    if (m === null) continue;
    const [, mon, day, hh, mm, ss, year, message = ""] = m;
    const month = MONTHS.indexOf(mon ?? "");
    if (month < 0) continue;
    const at = new Date(Number(year), month, Number(day), Number(hh), Number(mm), Number(ss));
    const entering = ENTERING.exec(message);
    if (entering !== null) {
      events.push({ kind: "state", at, instance: entering[1] ?? "", state: entering[2] as VrrpState });
    } else if (message.startsWith("Starting Keepalived")) {
      events.push({ kind: "starting", at });
    } else if (message === "Stopping") {
      events.push({ kind: "stopping", at });
    } else if (message.startsWith("Stopped Keepalived")) {
      events.push({ kind: "stopped", at });
    }
  }
  return events;
}

/** The last state keepalived entered for a VRRP instance, or undefined before the first transition. */
export function currentVrrpState(events: readonly KeepalivedEvent[], instance: string): VrrpState | undefined {
  let state: VrrpState | undefined;
  for (const e of events) {
    if (e.kind !== "state")
      state = undefined; // starting, stopping or stopped: no state yet or any more
    else if (e.instance === instance) state = e.state;
  }
  return state;
}
