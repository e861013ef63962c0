// The web console: a lit single-page app (src/app) built by vite into dist/; havipd serves dist/ at `/`.
// This module is what Node code may import: where the built files are. It never loads the browser code.
import { fileURLToPath } from "node:url";

/** The directory vite builds the console into (it may not exist yet: havipd then answers 503 at `/`). */
export function consoleDir(): string {
  return fileURLToPath(new URL("../dist/", import.meta.url));
}
