// What every `havip lab …` command works with: where the lab and havipd's data are, the operator client
// (attachments and the edge are operator endpoints), and the lab itself. Lab failures are reported as one
// `error: …` line like the API's.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { isLabError, openLab, type Lab } from "@havip/lab";
import { ApiClient } from "../client.ts";
import type { Context } from "../context.ts";
import { ConnectionError, UsageError } from "../errors.ts";

/** A lab failure, printed as `error: <message>` with exit status 1 (as a failed request). */
export class LabFailure extends ConnectionError {}

export interface LabPlaces {
  /** havipd's data directory (its operator token, the demo project's token). */
  dataDir: string;
  /** The lab's state directory (the one havipd was started with as --lab-dir). */
  labDir: string;
}

export interface LabDirOptions {
  dataDir?: string | undefined;
  labDir?: string | undefined;
}

/** --data-dir, else $HAVIP_DATA_DIR, else ./data; --lab-dir, else $HAVIP_LAB_DIR, else <data-dir>/lab. */
export function labPlaces(
  options: LabDirOptions,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): LabPlaces {
  const given = (v: string | undefined): string | undefined => (v === undefined || v === "" ? undefined : v);
  const dataDir = resolve(cwd, given(options.dataDir) ?? given(env.HAVIP_DATA_DIR) ?? "data");
  const labDir = resolve(cwd, given(options.labDir) ?? given(env.HAVIP_LAB_DIR) ?? join(dataDir, "lab"));
  return { dataDir, labDir };
}

/** The lab's name for an API instance name: lower case ("vm-A" → "vm-a"), as namespaces are named. */
export function labNameOf(instanceName: string): string {
  return instanceName.toLowerCase();
}

export class LabContext {
  readonly ctx: Context;
  readonly places: LabPlaces;
  #admin: ApiClient | undefined;

  constructor(ctx: Context, places: LabPlaces) {
    this.ctx = ctx;
    this.places = places;
  }

  /** The operator token: $HAVIP_ADMIN_TOKEN, else <data-dir>/admin-token (written by havipd). */
  operatorToken(): string {
    const fromEnv = this.ctx.environment.env.HAVIP_ADMIN_TOKEN;
    if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
    const file = join(this.places.dataDir, "admin-token");
    if (!existsSync(file)) {
      throw new LabFailure(
        `no operator token: set HAVIP_ADMIN_TOKEN or give havipd's --data-dir (no ${file}); is havipd running?`,
      );
    }
    return readFileSync(file, "utf8").trim();
  }

  /** The operator's API client, once havipd has answered its health check. */
  async admin(): Promise<ApiClient> {
    if (this.#admin === undefined) {
      const { api } = await this.ctx.settings();
      const client = new ApiClient(api, this.operatorToken(), this.ctx.environment.fetch);
      try {
        await client.get("/v1/health");
      } catch (e) {
        if (e instanceof ConnectionError) {
          throw new LabFailure(
            `havipd is not running at ${api} (${e.message}); start it as root with: havipd --lab-dir ${this.places.labDir}`,
          );
        }
        throw e;
      }
      this.#admin = client;
    }
    return this.#admin;
  }

  /** A client with another token (a project's), at the same address. */
  async as(token: string): Promise<ApiClient> {
    const { api } = await this.ctx.settings();
    return new ApiClient(api, token, this.ctx.environment.fetch);
  }

  /** The lab havipd set up in the lab directory. */
  lab(): Lab {
    return labCall(() => {
      if (!existsSync(join(this.places.labDir, "lab-state.json")) && process.geteuid?.() === 0) {
        throw new LabFailure(
          `no lab is up in ${this.places.labDir}: start havipd as root with --lab-dir ${this.places.labDir} (it creates the lab's fabric)`,
        );
      }
      return openLab({ stateDir: this.places.labDir });
    });
  }
}

/** Runs a lab call and turns its LabError into one `error:` line. */
export function labCall<T>(call: () => T): T {
  try {
    return call();
  } catch (e) {
    throw asLabFailure(e);
  }
}

export async function labAwait<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw asLabFailure(e);
  }
}

function asLabFailure(e: unknown): unknown {
  if (isLabError(e)) return new LabFailure(e.message);
  return e;
}

/** Checks the `-- <command…>` of `havip lab exec`. */
export function execArguments(command: readonly string[]): { program: string; args: string[] } {
  const [program, ...args] = command;
  if (program === undefined || program === "") throw new UsageError("lab exec needs a command after --");
  return { program, args };
}
