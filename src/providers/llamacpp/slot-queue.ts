import type { SlotLoad } from "../../core/index.js";
import { GatewayError } from "../../core/index.js";
import { canceledError } from "./cancellation.js";

export type { SlotLoad } from "../../core/index.js";

/** The shortest and the longest wait a refused request is told to come back after (Retry-After). */
export const RETRY_AFTER_MIN_MS = 1000;
export const RETRY_AFTER_MAX_MS = 30_000;
/** How much the latest request's hold of a slot weighs in the running mean (an exponential moving average). */
const HOLD_WEIGHT = 0.2;

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
 *
 * A refusal says when to come back (`retryAfterMs`, the client's Retry-After): the expected time until
 * a slot frees, and with it a place in the queue, which is the mean time recent requests held a slot
 * divided by the slots, kept between RETRY_AFTER_MIN_MS and RETRY_AFTER_MAX_MS (the minimum before any
 * request has finished).
 */
export class SlotQueue {
  #active = 0;
  readonly #queue: Waiter[] = [];
  /** The mean time a request held a slot, over the recent ones; undefined before the first is done. */
  #meanHoldMs: number | undefined;

  constructor(
    readonly target: string,
    readonly slots: number,
    readonly maxQueue: number,
    /** A clock in milliseconds, for how long requests hold their slots (a test's own). */
    private readonly now: () => number = () => performance.now(),
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
          retryAfterMs: this.retryAfterMs(),
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

  /** When a refused request may expect a free place: see the class comment. */
  retryAfterMs(): number {
    const expected = this.#meanHoldMs === undefined ? 0 : this.#meanHoldMs / this.slots;
    return Math.round(Math.min(RETRY_AFTER_MAX_MS, Math.max(RETRY_AFTER_MIN_MS, expected)));
  }

  #releaser(): () => void {
    let released = false;
    const since = this.now();
    return () => {
      if (released) return;
      released = true;
      const held = this.now() - since;
      this.#meanHoldMs = this.#meanHoldMs === undefined ? held : this.#meanHoldMs + HOLD_WEIGHT * (held - this.#meanHoldMs);
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
