// The routes the server knows, so that a known path with the wrong method answers 405 (with Allow)
// instead of 404.
export class RouteTable {
  readonly #routes: { method: string; pattern: RegExp }[] = [];

  add(method: string | string[], url: string): void {
    const pattern = new RegExp(
      "^" +
        url
          .split("/")
          .map((part) => (part.startsWith(":") ? "[^/]+" : part === "*" ? ".*" : escape(part)))
          .join("/") +
        "/?$",
    );
    for (const m of Array.isArray(method) ? method : [method]) this.#routes.push({ method: m.toUpperCase(), pattern });
  }

  /** The methods routed for a concrete path (empty when the path is unknown). */
  methodsFor(path: string): string[] {
    return [...new Set(this.#routes.filter((r) => r.pattern.test(path)).map((r) => r.method))];
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
