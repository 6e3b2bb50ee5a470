/**
 * How many batch lines run at once, across every batch (`batches.concurrency`): a line takes a slot
 * before it is sent and gives it back when it has its answer; the others wait their turn in order.
 * So a batch never holds more of the server (or of a local model's slots) than this, and a client's
 * own requests go between its lines.
 */
export class LineSlots {
  readonly #size: number;
  #taken = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#size = Math.max(1, Math.floor(size));
  }

  /** Resolves with the slot's release once one is free (call it exactly once). */
  async take(): Promise<() => void> {
    if (this.#taken < this.#size) this.#taken++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      // The slot passes straight to the next in line (it stays taken).
      if (next) next();
      else this.#taken--;
    };
  }
}
