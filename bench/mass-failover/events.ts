// havipd's change stream as the benchmark follows it: `GET /v1/events?since=REV` (server-sent events) over one
// keep-alive connection, every holder-changed event handed on with the time it arrived (performance.now()).
import { request, type ClientRequest } from "node:http";

export interface HolderChange {
  havipId: string;
  /** The new holder's vNIC (null: released). */
  vnicId: string | null;
  generation: number;
  /** When the event reached this process, performance.now() ms. */
  seenAt: number;
}

interface ChangeEvent {
  revision: number;
  resource: string;
  id: string;
  action: string;
  data: { holder: { vnicId: string } | null; generation: number } | null;
}

export interface HolderWatch {
  /** The revision of the last event read (any resource). */
  revision(): number;
  close(): void;
}

/** Follows the stream from `since` (exclusive); `onChange` gets every HAVIP holder change, in commit order. */
export async function watchHolders(
  url: string,
  token: string,
  since: number,
  onChange: (change: HolderChange) => void,
): Promise<HolderWatch> {
  const target = new URL(`/v1/events?since=${since}`, url);
  let last = since;
  let req: ClientRequest | undefined;
  await new Promise<void>((resolve, reject) => {
    req = request(
      { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: "GET" },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`GET /v1/events → ${res.statusCode ?? 0}`));
          res.resume();
          return;
        }
        let partial = "";
        res.setEncoding("utf8").on("data", (chunk: string) => {
          const seenAt = performance.now();
          const lines = (partial + chunk).split("\n");
          partial = lines.pop() ?? "";
          for (const line of lines) {
            if (!line.startsWith("data: ")) continue; // ids, event names, heartbeats and blank separators
            const event = JSON.parse(line.slice("data: ".length)) as ChangeEvent;
            last = event.revision;
            if (event.resource !== "havip" || event.action !== "holder-changed" || event.data === null) continue;
            onChange({
              havipId: event.id,
              vnicId: event.data.holder?.vnicId ?? null,
              generation: event.data.generation,
              seenAt,
            });
          }
        });
        res.on("error", () => undefined); // closed by close()
        resolve();
      },
    );
    req.setHeader("authorization", `Bearer ${token}`);
    req.on("error", reject);
    req.end();
  });
  return {
    revision: () => last,
    close: () => {
      req?.destroy();
    },
  };
}
