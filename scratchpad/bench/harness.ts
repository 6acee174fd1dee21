/** What every benchmark here shares: timing, concurrent callers, medians. */

/** Seconds `run` takes. */
export const timed = async (run: () => Promise<void>): Promise<number> => {
  const start = performance.now()
  await run()
  return (performance.now() - start) / 1000
}

/** `callers` async loops sharing `total` calls; `call(caller, k)` with k the caller's own counter. */
export const runCallers = async (callers: number, total: number, call: (caller: number, k: number) => Promise<void>): Promise<void> => {
  let left = total
  await Promise.all(Array.from({ length: callers }, async (_, caller) => {
    for (let k = 0; left > 0; k++) {
      left--
      await call(caller, k)
    }
  }))
}

export const median = (values: ReadonlyArray<number>): number => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? Number.NaN
