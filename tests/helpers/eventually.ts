/** Poll `probe` until it returns something truthy (returned), or fail after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined | false | null>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
