// The web console: a lit single-page app built by vite; havipd serves the built files at `/`.
export {};
