/**
 * Keys reserved in the database ahead of use, a block at a time: one statement per block instead
 * of one per key (a certificate serial is a row under a unique key before anything is signed with
 * it). `reserve` inserts a block of fresh candidates and returns the ones it got: a key someone
 * else holds already is simply not returned. A new block is fetched in the background once fewer
 * than `low` are left; a key given back (nothing was made with it) serves the next taker.
 */
export class ReservedBlock {
  #keys: string[] = [];
  #refill: Promise<void> | undefined;

  constructor(
    private readonly reserve: () => Promise<string[]>,
    private readonly options: {low: number; attempts?: number; exhausted: () => Error},
  ) {}

  async take(): Promise<string> {
    const attempts = this.options.attempts ?? 20;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const key = this.#keys.pop();
      if (key !== undefined) {
        if (this.#keys.length < this.options.low) void this.#fill().catch(() => undefined);
        return key;
      }
      await this.#fill();
    }
    throw this.options.exhausted();
  }

  /** A reserved key nothing was made with: it serves again. */
  #giveBack(key: string): void {
    this.#keys.push(key);
  }

  /**
   * Makes something under a reserved key: when `make` fails, nothing was made with the key, and it
   * serves the next taker.
   */
  async use<T>(make: (key: string) => Promise<T> | T): Promise<T> {
    const key = await this.take();
    try {
      return await make(key);
    } catch (error) {
      this.#giveBack(key);
      throw error;
    }
  }

  /** Waits for a block in flight and hands over the keys never used (on a clean stop). */
  async drain(): Promise<string[]> {
    await this.#refill?.catch(() => undefined);
    return this.#keys.splice(0);
  }

  #fill(): Promise<void> {
    this.#refill ??= (async () => {
      try {
        this.#keys.push(...(await this.reserve()));
      } finally {
        this.#refill = undefined;
      }
    })();
    return this.#refill;
  }
}
