// Shutdown on SIGINT/SIGTERM: the first signal starts a graceful stop, a second one exits at once.
// npm/npx forwards the terminal's Ctrl-C to its child, which also receives it from the terminal itself, so a
// repeat within a short window counts as the same signal rather than as the operator's second request.

export type ShutdownSignal = "SIGINT" | "SIGTERM";

export interface SignalSource {
  on(event: ShutdownSignal, listener: () => void): unknown;
  off(event: ShutdownSignal, listener: () => void): unknown;
}

export interface ShutdownHandlers {
  graceful(signal: ShutdownSignal): void;
  immediate(signal: ShutdownSignal): void;
}

export const DUPLICATE_SIGNAL_WINDOW_MS = 300;

export function handleShutdownSignals(
  handlers: ShutdownHandlers,
  source: SignalSource = process,
  now: () => number = () => performance.now(),
  duplicateWindowMs = DUPLICATE_SIGNAL_WINDOW_MS,
): () => void {
  let firstAt: number | undefined;
  const listeners = (["SIGINT", "SIGTERM"] as const).map((signal) => {
    const listener = (): void => {
      if (firstAt === undefined) {
        firstAt = now();
        handlers.graceful(signal);
      } else if (now() - firstAt > duplicateWindowMs) {
        handlers.immediate(signal);
      }
    };
    source.on(signal, listener);
    return [signal, listener] as const;
  });
  return () => {
    for (const [signal, listener] of listeners) source.off(signal, listener);
  };
}
