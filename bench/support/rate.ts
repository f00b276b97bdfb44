/** Calls per second of `fn` over `ms` milliseconds, after a 100 ms warm-up, timed in batches of `batch` calls. */
export async function rate(fn: () => Promise<unknown> | unknown, ms: number, batch: number): Promise<number> {
  const warm = Date.now() + 100;
  while (Date.now() < warm) await fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (let i = 0; i < batch; i++) await fn();
    n += batch;
  }
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}
