// The console's browser entry (vite's input): defines the elements; index.html places <havip-console>.
import "./havip-console.ts";
