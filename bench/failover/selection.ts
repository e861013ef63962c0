// What a failover run measures: which systems and advert_int values (BENCH_FAILOVER_SYSTEMS, BENCH_FAILOVER_ADVERTS,
// comma-separated; default every system, 0.1 and 1 s; --quick: 0.1 only). Bad values throw a one-line reason.

/** A comma-separated list from the environment, or `fallback` when unset or empty. */
function listFrom(value: string | undefined, fallback: readonly string[]): readonly string[] {
  const list = (value ?? "").split(",").filter((x) => x.trim() !== "");
  return list.length === 0 ? fallback : list.map((x) => x.trim());
}

export function failoverSelection(
  env: Readonly<Record<string, string | undefined>>,
  known: readonly string[],
  quick: boolean,
  defaults: readonly string[] = known,
): { systems: readonly string[]; adverts: readonly number[] } {
  const advertList = quick ? ["0.1"] : listFrom(env.BENCH_FAILOVER_ADVERTS, ["0.1", "1"]);
  const adverts = advertList.map(Number);
  if (adverts.some((a) => !(a > 0 && a <= 255))) {
    throw new Error(
      `BENCH_FAILOVER_ADVERTS: advert_int values are seconds above 0 up to 255, got '${advertList.join(",")}'`,
    );
  }
  const systems = listFrom(env.BENCH_FAILOVER_SYSTEMS, defaults);
  const unknown = systems.filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    throw new Error(`BENCH_FAILOVER_SYSTEMS: unknown ${unknown.join(", ")} (known: ${known.join(", ")})`);
  }
  return { systems, adverts };
}
