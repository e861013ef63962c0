// Where the CLI finds the API and its token. Precedence, per setting:
//   --api / --token flags  >  HAVIP_API / HAVIP_TOKEN  >  the config file written by `havip login`  >  default.
// The file is $HAVIP_CONFIG, else $XDG_CONFIG_HOME/havip/config.json, else ~/.config/havip/config.json.
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { UsageError } from "./errors.ts";

export const DEFAULT_API = "http://127.0.0.1:7480";

export interface ConfigFile {
  api?: string;
  token?: string;
}

export type Source = "flag" | "environment" | "config file" | "default" | "none";

export interface Settings {
  api: string; // normalised: scheme, host, optional port and path prefix, no trailing slash
  token: string | undefined;
  apiSource: Source;
  tokenSource: Source;
  configPath: string;
}

type Env = Readonly<Record<string, string | undefined>>;

export function configPath(env: Env, homeDir: string): string {
  const explicit = env.HAVIP_CONFIG;
  if (explicit !== undefined && explicit !== "") return explicit;
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg !== undefined && xdg !== "" ? xdg : join(homeDir, ".config");
  return join(base, "havip", "config.json");
}

export async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as { code?: unknown }).code === "ENOENT") return {};
    throw new UsageError(`cannot read the config file ${path}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`the config file ${path} is not valid JSON; fix it or run "havip login" again`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new UsageError(`the config file ${path} must hold a JSON object`);
  }
  const record = parsed as Record<string, unknown>;
  const file: ConfigFile = {};
  if (typeof record.api === "string") file.api = record.api;
  if (typeof record.token === "string") file.token = record.token;
  return file;
}

/** Writes the file owner-only (0600 in a 0700 directory), replacing it atomically. */
export async function writeConfigFile(path: string, config: ConfigFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    await chmod(temporary, 0o600); // in case the file existed with a looser mode
    await rename(temporary, path);
  } catch (e) {
    await rm(temporary, { force: true });
    throw new UsageError(`cannot write the config file ${path}: ${(e as Error).message}`);
  }
}

function given(text: string | undefined): text is string {
  return text !== undefined && text !== "";
}

export function resolveSettings(
  flags: { api?: string | undefined; token?: string | undefined },
  env: Env,
  file: ConfigFile,
  path: string,
): Settings {
  const [apiText, apiSource]: [string, Source] = given(flags.api)
    ? [flags.api, "flag"]
    : given(env.HAVIP_API)
      ? [env.HAVIP_API, "environment"]
      : given(file.api)
        ? [file.api, "config file"]
        : [DEFAULT_API, "default"];
  const [token, tokenSource]: [string | undefined, Source] = given(flags.token)
    ? [flags.token, "flag"]
    : given(env.HAVIP_TOKEN)
      ? [env.HAVIP_TOKEN, "environment"]
      : given(file.token)
        ? [file.token, "config file"]
        : [undefined, "none"];
  return { api: normaliseApi(apiText, apiSource), token, apiSource, tokenSource, configPath: path };
}

const SOURCE_NAMES: Record<Source, string> = {
  flag: "--api",
  environment: "HAVIP_API",
  "config file": "the config file",
  default: "the default",
  none: "",
};

/** "localhost:7480" means http://localhost:7480; a trailing slash is dropped. */
export function normaliseApi(text: string, source: Source = "flag"): string {
  const withScheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`the API address from ${SOURCE_NAMES[source]} is not a URL: "${text}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`the API address from ${SOURCE_NAMES[source]} must be an http:// or https:// URL: "${text}"`);
  }
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
    throw new UsageError(
      `the API address from ${SOURCE_NAMES[source]} must not carry a query, fragment or credentials`,
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}
