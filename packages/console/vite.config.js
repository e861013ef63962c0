// vite builds src/app (entry: index.html) into dist/, which havipd serves at `/`.
import { defineConfig } from "vite";

export default defineConfig({
  build: { outDir: "dist", emptyOutDir: true, assetsDir: "assets", sourcemap: true },
});
