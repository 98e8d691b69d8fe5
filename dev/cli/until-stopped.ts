/** Resolves at the first SIGINT or SIGTERM: long-running commands (sandbox, serve) then close cleanly. */
export function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
