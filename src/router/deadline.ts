import { ClientDeadlineError, GatewayError } from "../core/index.js";
import { LoopTimeout } from "../core/loop-time.js";

export interface Timeouts {
  /** Establishing a connection to the upstream (enforced by the provider's HTTP client, not here). */
  connectMs?: number;
  /** From the start of the attempt to its first event. */
  firstTokenMs: number;
  /** Longest gap between two events. */
  idleMs: number;
  /** The whole answer. */
  totalMs: number;
  /**
   * The client's own deadline (x-tandem-deadline-ms), when `totalMs` is what is left of it: the
   * total limit's timeout is then a ClientDeadlineError, which is not counted against the target.
   */
  clientDeadlineMs?: number;
  /**
   * Throughput floor after the first event, in tokens of output per second (as `tick` is told them,
   * estimated from the output's length); 0 or absent: none.
   */
  minTokensPerSecond?: number;
  /** The window the floor is measured over. Default 5000. */
  throughputWindowMs?: number;
}

/**
 * The time limits of one upstream attempt, as one AbortSignal that also follows the client's.
 * When a limit passes, the upstream work is aborted (not merely raced) and `error()` explains why.
 */
export class Deadline {
  readonly #controller = new AbortController();
  readonly #parent: AbortSignal;
  readonly #timeouts: Timeouts;
  readonly #target: string;
  readonly #onParentAbort = () => {
    // The client (or a hedge's winner) ended this attempt: its timers have nothing left to watch.
    this.dispose();
    this.#controller.abort(this.#parent.reason);
  };
  #expired: GatewayError | undefined;
  // Limits on the upstream leave out time tandem's own event loop was held up (LoopTimeout): an answer
  // that waited unread in the socket meanwhile is not the upstream's delay, nor a failure of its.
  #step: LoopTimeout | undefined;
  /** Whether #step is the idle limit (after the first event) rather than the first-token limit. */
  #stepIsIdle = false;
  #total: LoopTimeout | undefined;
  #floor: NodeJS.Timeout | undefined;
  #tokensInWindow = 0;

  constructor(parent: AbortSignal, timeouts: Timeouts, target: string) {
    this.#parent = parent;
    this.#timeouts = timeouts;
    this.#target = target;
    if (parent.aborted) this.#controller.abort(parent.reason);
    else parent.addEventListener("abort", this.#onParentAbort, { once: true });
    this.#total = new LoopTimeout(() => {
      const clients = timeouts.clientDeadlineMs;
      if (clients === undefined) this.#expire(`no complete answer within ${timeouts.totalMs} ms`);
      else this.#expire(new ClientDeadlineError(target, clients));
    }, timeouts.totalMs);
    this.#step = new LoopTimeout(() => this.#expire(`no first token within ${timeouts.firstTokenMs} ms`), timeouts.firstTokenMs);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * Call after each event that is progress (not a keep-alive): restarts the idle limit (the first
   * call switches from first-token to idle). `tokens`: about how many tokens of output the event
   * carried, towards the throughput floor (an upstream may send many in one event).
   */
  tick(tokens = 0): void {
    this.#tokensInWindow += tokens;
    if (this.#step && this.#stepIsIdle) {
      this.#step.refresh();
      return;
    }
    this.#step?.clear();
    this.#stepIsIdle = true;
    this.#step = new LoopTimeout(() => this.#expire(`no token for ${this.#timeouts.idleMs} ms`), this.#timeouts.idleMs);
    this.#startFloor();
  }

  /** After the first event: every window, a stream that delivered fewer tokens than the floor is abandoned. */
  #startFloor(): void {
    const floor = this.#timeouts.minTokensPerSecond ?? 0;
    if (floor <= 0) return;
    const windowMs = this.#timeouts.throughputWindowMs ?? 5000;
    this.#tokensInWindow = 0;
    this.#floor = setInterval(() => {
      const rate = (this.#tokensInWindow * 1000) / windowMs;
      this.#tokensInWindow = 0;
      if (rate < floor) this.#expire(`${rate.toFixed(1)} tokens/s over ${windowMs} ms, below the floor of ${floor}`);
    }, windowMs);
  }

  /** The error to report for a failure: the timeout when one fired, else the failure normalised. */
  error(err: unknown): GatewayError {
    if (this.#expired) return this.#expired;
    if (this.#parent.aborted) return new GatewayError("canceled", "The client disconnected", { cause: err });
    return GatewayError.from(err);
  }

  dispose(): void {
    this.#step?.clear();
    this.#total?.clear();
    clearInterval(this.#floor);
    this.#parent.removeEventListener("abort", this.#onParentAbort);
  }

  #expire(why: string | GatewayError): void {
    this.#expired =
      typeof why === "string" ? new GatewayError("timeout", `${this.#target}: ${why}`, { target: this.#target }) : why;
    this.dispose();
    this.#controller.abort(this.#expired);
  }
}
