// `--listen HOST:PORT`: where havipd serves the API. IPv6 hosts are written in brackets ("[::1]:7480").
// `--listen unix:/abs/path.sock` serves on a Unix socket (reachable from other network namespaces, where
// havipd runs inside the lab's fabric namespace).

export interface ListenAddress {
  host: string;
  port: number; // 0 asks the kernel for a free port
  /** A Unix socket path instead of host and port. */
  path?: string;
}

export const DEFAULT_LISTEN: ListenAddress = { host: "127.0.0.1", port: 7480 };

/** Parses HOST:PORT; returns an error message instead of throwing so the caller can print usage. */
export function parseListenAddress(text: string): ListenAddress | { error: string } {
  if (text.startsWith("unix:")) {
    const path = text.slice("unix:".length);
    if (!path.startsWith("/")) return { error: `--listen unix: needs an absolute socket path, got "${text}"` };
    return { host: "unix", port: 0, path };
  }
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text);
  if (!match) return { error: `--listen expects HOST:PORT (e.g. 127.0.0.1:7480), got "${text}"` };
  const host = match[1] ?? match[2] ?? "";
  const port = Number(match[3]);
  if (port > 65535) return { error: `--listen port must be 0–65535, got ${port}` };
  return { host, port };
}

/** The URL a client uses to reach an address (wildcard hosts are reached over loopback). */
export function listenUrl(address: ListenAddress): string {
  if (address.path !== undefined) return `unix:${address.path}`;
  const host = address.host === "0.0.0.0" ? "127.0.0.1" : address.host === "::" ? "::1" : address.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
}
