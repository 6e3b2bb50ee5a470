import type { SlotLoad } from "../../core/index.js";
import { GatewayError } from "../../core/index.js";
import { canceledError } from "./cancellation.js";

export type { SlotLoad } from "../../core/index.js";

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (err: GatewayError) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * The parallel slots of one local model: up to `slots` requests run at once, the rest wait first in,
 * first out, at most `maxQueue` of them; past that a request is refused at once as overloaded (so the
 * router can send it elsewhere instead of letting it queue). A canceled request leaves the queue, or
 * frees its slot, at once.
 */
export class SlotQueue {
  #active = 0;
  readonly #queue: Waiter[] = [];

  constructor(
    readonly target: string,
    readonly slots: number,
    readonly maxQueue: number,
  ) {}

  load(): SlotLoad {
    return { slots: this.slots, active: this.#active, queued: this.#queue.length, maxQueue: this.maxQueue };
  }

  /** Whether a new request would have to wait. */
  get busy(): boolean {
    return this.#active >= this.slots;
  }

  /** Resolves with the function that frees the slot (call it exactly once). */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(canceledError(this.target, " while it waited"));
    if (this.#active < this.slots && this.#queue.length === 0) {
      this.#active++;
      return Promise.resolve(this.#releaser());
    }
    if (this.#queue.length >= this.maxQueue) {
      return Promise.reject(
        new GatewayError("overloaded", `${this.target} is busy: ${this.#active} running, ${this.#queue.length} waiting.`, {
          target: this.target,
          retryable: false,
        }),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.#queue.indexOf(waiter);
          if (i >= 0) this.#queue.splice(i, 1);
          reject(canceledError(this.target, " while it waited"));
        },
      };
      signal?.addEventListener("abort", waiter.onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      if (next) {
        next.signal?.removeEventListener("abort", next.onAbort);
        next.resolve(this.#releaser());
      } else {
        this.#active--;
      }
    };
  }
}
