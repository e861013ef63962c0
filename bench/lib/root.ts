// Benchmarks of the Linux parts need root (namespaces, VXLAN, OVS); without it they say so loudly and skip.
export const isRoot = process.getuid?.() === 0;

/** True when the benchmark may run; else prints why it is skipped. */
export function requireRootFor(bench: string): boolean {
  if (isRoot) return true;
  process.stderr.write(`\n!!! ${bench}: SKIPPED — needs root (network namespaces); run as root !!!\n\n`);
  return false;
}
