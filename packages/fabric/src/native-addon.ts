// Loads one of the fabric's own Node-API addons (packages/fabric/native/*.c, built by scripts/build-native.sh into
// native/build/<name>.node). They are optional: a missing or foreign build is a reason, never an exception.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export type AddonLoad<T> = { addon: T; reason: null } | { addon: null; reason: string };

/** Where scripts/build-native.sh puts the addons. */
const BUILD_DIR = new URL("../native/build/", import.meta.url);

/**
 * Loads `native/build/<name>.node` and checks that it exports the `functions` named; never throws: without it,
 * `reason` says why (not built, wrong platform, an older build without a function, ...).
 */
export function loadNativeAddon<T>(name: string, functions: readonly string[]): AddonLoad<T> {
  try {
    const exports: unknown = createRequire(import.meta.url)(fileURLToPath(new URL(`${name}.node`, BUILD_DIR)));
    const o = (typeof exports === "object" && exports !== null ? exports : {}) as Record<string, unknown>;
    return functions.every((f) => typeof o[f] === "function")
      ? { addon: exports as T, reason: null }
      : { addon: null, reason: `the ${name} addon does not export ${functions.join("/")}` };
  } catch (e) {
    const message = e instanceof Error ? e.message.split("\n")[0]! : String(e);
    return { addon: null, reason: `${name} addon not loaded (scripts/build-native.sh builds it): ${message}` };
  }
}
