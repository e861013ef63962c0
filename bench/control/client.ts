// A keep-alive HTTP client for the benchmarks (node:http: less client overhead than fetch, which matters when the
// client shares 2 cores with havipd), and a load runner: `concurrency` workers pulling the next request number
// until `count` requests are done, each request's latency recorded.
import { Agent, request } from "node:http";

export interface Answer {
  status: number;
  body: unknown;
  /** Request start to last byte of the answer, in ms. */
  ms: number;
}

export class Api {
  readonly #url: URL;
  readonly #agent: Agent;
  token: string;

  constructor(url: string, token: string, sockets = 256) {
    this.#url = new URL(url);
    this.token = token;
    this.#agent = new Agent({ keepAlive: true, maxSockets: sockets });
  }

  send(method: string, path: string, body?: unknown, token = this.token): Promise<Answer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(payload));
    }
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.#url.hostname, port: this.#url.port, method, path, headers, agent: this.#agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const ms = performance.now() - started;
            const text = Buffer.concat(chunks).toString("utf8");
            try {
              resolve({ status: res.statusCode ?? 0, body: text === "" ? undefined : JSON.parse(text), ms });
            } catch (e) {
              reject(e instanceof Error ? e : new Error(String(e)));
            }
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  /** Sends and demands the expected status; returns the body. */
  async ok<T>(method: string, path: string, body?: unknown, expect = 200): Promise<T> {
    const answer = await this.send(method, path, body);
    if (answer.status !== expect) {
      throw new Error(`${method} ${path} → ${answer.status} (expected ${expect}): ${JSON.stringify(answer.body)}`);
    }
    return answer.body as T;
  }

  close(): void {
    this.#agent.destroy();
  }
}

export interface LoadResult {
  /** Wall time of the whole batch, ms. */
  elapsedMs: number;
  /** Latency of each request, ms, in completion order. */
  latencies: number[];
  /** Requests per second over the batch. */
  rate: number;
}

/** Runs `count` requests with `concurrency` in flight; a failed request fails the batch. */
export async function load(
  concurrency: number,
  count: number,
  one: (i: number) => Promise<Answer>,
): Promise<LoadResult> {
  let next = 0;
  const latencies: number[] = [];
  const started = performance.now();
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const answer = await one(i);
      latencies.push(answer.ms);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const elapsedMs = performance.now() - started;
  return { elapsedMs, latencies, rate: (count / elapsedMs) * 1000 };
}

/** Throws unless the answer has the expected status (so a benchmark never counts failures as work done). */
export function expectStatus(answer: Answer, status: number, what: string): Answer {
  if (answer.status !== status) throw new Error(`${what} → ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer;
}
