// What a command's action works with: the resolved settings, an API client, and the output.
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { ApiClient, type PageOf } from "./client.ts";
import { configPath, readConfigFile, resolveSettings, type Settings } from "./config.ts";
import type { CliEnvironment } from "./environment.ts";
import { ApiRequestError } from "./errors.ts";
import { renderTable, type Column } from "./table.ts";

export interface GlobalOptions {
  api?: string | undefined;
  token?: string | undefined;
  json?: boolean | undefined;
}

export interface ListOptions {
  limit?: number | undefined;
  cursor?: string | undefined;
}

export class Context {
  readonly environment: CliEnvironment;
  readonly globals: GlobalOptions;
  #settings: Settings | undefined;
  #client: ApiClient | undefined;

  constructor(environment: CliEnvironment, globals: GlobalOptions) {
    this.environment = environment;
    this.globals = globals;
  }

  static of(environment: CliEnvironment, command: CommandUnknownOpts): Context {
    const all = command.optsWithGlobals();
    const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
    return new Context(environment, { api: text(all.api), token: text(all.token), json: all.json === true });
  }

  get json(): boolean {
    return this.globals.json === true;
  }

  async settings(): Promise<Settings> {
    if (this.#settings === undefined) {
      const path = configPath(this.environment.env, this.environment.homeDir);
      const file = await readConfigFile(path);
      this.#settings = resolveSettings(this.globals, this.environment.env, file, path);
    }
    return this.#settings;
  }

  async client(): Promise<ApiClient> {
    if (this.#client === undefined) {
      const settings = await this.settings();
      this.#client = new AuthHintingClient(settings.api, settings.token, this.environment.fetch);
    }
    return this.#client;
  }

  idempotencyKey(given: string | undefined): string {
    return given ?? this.environment.newIdempotencyKey();
  }

  print(text: string): void {
    this.environment.stdout.write(text);
  }

  note(text: string): void {
    this.environment.stderr.write(`${text}\n`);
  }

  printJson(value: unknown): void {
    this.print(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** The API's JSON with --json, otherwise the rendered view. */
  show<T>(value: T, render: (value: T) => string): void {
    if (this.json) this.printJson(value);
    else this.print(render(value));
  }

  /**
   * A list command: every page by default; one page when --limit or --cursor is given (then the next
   * cursor is mentioned on stderr). --json prints the API's page shape {items, nextCursor}.
   */
  async list<T>(
    path: string,
    query: Record<string, string | undefined>,
    paging: ListOptions,
    render: (items: T[]) => string | Promise<string>,
  ): Promise<T[]> {
    const client = await this.client();
    let page: PageOf<T>;
    if (paging.limit !== undefined || paging.cursor !== undefined) {
      page = await client.get<PageOf<T>>(path, { ...query, limit: paging.limit, cursor: paging.cursor });
    } else {
      page = { items: await client.listAll<T>(path, query), nextCursor: null };
    }
    if (this.json) this.printJson(page);
    else {
      this.print(await render(page.items));
      if (page.nextCursor !== null) this.note(`more: add --cursor ${page.nextCursor}`);
    }
    return page.items;
  }

  table<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
    return renderTable(columns, rows);
  }
}

/** Adds the likely fix to an Unauthorized answer when no token was configured at all. */
class AuthHintingClient extends ApiClient {
  override async request<T>(method: string, path: string, options?: Parameters<ApiClient["request"]>[2]): Promise<T> {
    try {
      return await super.request<T>(method, path, options);
    } catch (e) {
      if (e instanceof ApiRequestError && e.code === "Unauthorized" && !this.hasToken) {
        throw new ApiRequestError(
          e.code,
          `${e.message} (no token configured: use --token, HAVIP_TOKEN or "havip login")`,
          e.status,
          e.requestId,
        );
      }
      throw e;
    }
  }
}
