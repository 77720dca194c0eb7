/** Polls a synchronous condition every 2 ms: for tests that wait on a state, never on a timer. */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 2));
}
