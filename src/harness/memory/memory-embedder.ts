import type { Gateway } from "../../core/gateway.js";
import { LocalOnlyRefusal } from "../../core/local-only-refusal.js";
import type { MemoryEmbedding } from "../../core/memory.js";
import type { Sensitivity } from "../../core/sensitivity.js";

/** The header that tells the router how sensitive a request is (privacy/sensitivity.ts's SENSITIVITY_HEADER). */
const SENSITIVITY_HEADER = "x-tandem-sensitivity";

/** Why an embedding was not made: for the server's log, never with the text. */
export type EmbedSkipped =
  | { reason: "private_memory_cloud_model" }
  /** The route the text was embedded for keeps it on this machine, and the model is not. */
  | { reason: "route_privacy"; route: string }
  | { reason: "failed"; code: string };

/**
 * Makes the vectors of memories and of search queries with the configured embedding model
 * (`memory.embeddings`), through the router's `embed`: the model's privacy, retries, breaker and the
 * egress audit apply to each call as to any client's. Text is sent with its sensitivity as
 * `x-tandem-sensitivity`, so the router keeps private text off cloud targets; and private text is
 * not even offered to a model that is not on this machine. A failure is not an error of the caller:
 * the memory is kept (or the search made) by its words alone.
 */
export class MemoryEmbedder {
  readonly model: string;
  readonly #gateway: Gateway;
  readonly #local: boolean;
  readonly #onSkipped: (skipped: EmbedSkipped) => void;

  /** `local`: the model runs on this machine (the embedded engine, or a server on a loopback address). */
  constructor(gateway: Gateway, model: string, local: boolean, onSkipped: (skipped: EmbedSkipped) => void = () => {}) {
    this.#gateway = gateway;
    this.model = model;
    this.#local = local;
    this.#onSkipped = onSkipped;
  }

  /**
   * The vector of `text`, or undefined when it may not or could not be made. `sensitivity`: the
   * text's, when known (a memory's); undefined lets the router classify it (a user's turn).
   * `route`: the route whose client request the text comes from (a recall's or a file_search
   * call's query), whose privacy then decides, as for the request itself (RequestContext.privacyRoute);
   * `floor`: that request's least level (a stored conversation's, RequestContext.privacyFloor).
   * Throws only when `signal` is aborted.
   */
  async embed(
    text: string,
    sensitivity: Sensitivity | undefined,
    signal: AbortSignal,
    route?: string,
    floor?: Sensitivity,
  ): Promise<MemoryEmbedding | undefined> {
    const made = await this.made(text, sensitivity, signal, route, floor);
    return "vector" in made ? made : undefined;
  }

  /** As embed(), with why none was made (also told to the log). */
  async made(
    text: string,
    sensitivity: Sensitivity | undefined,
    signal: AbortSignal,
    route?: string,
    floor?: Sensitivity,
  ): Promise<MemoryEmbedding | EmbedSkipped> {
    const skip = (skipped: EmbedSkipped) => {
      this.#onSkipped(skipped);
      return skipped;
    };
    if (sensitivity === "private" && !this.#local) return skip({ reason: "private_memory_cloud_model" });
    try {
      const { result } = await this.#gateway.embed(
        { model: this.model, input: [text] },
        {
          signal,
          headers: sensitivity === undefined ? {} : { [SENSITIVITY_HEADER]: sensitivity },
          ...(route !== undefined && { privacyRoute: route }),
          ...(floor !== undefined && { privacyFloor: floor }),
        },
      );
      const vector = result.embeddings[0];
      if (vector === undefined || vector.length === 0) return skip({ reason: "failed", code: "empty_embedding" });
      return { model: this.model, vector };
    } catch (err) {
      signal.throwIfAborted();
      // The route's privacy keeps the text here and the model is elsewhere: by design, not a failure.
      if (err instanceof LocalOnlyRefusal && route !== undefined) return skip({ reason: "route_privacy", route });
      const code = (err as { code?: unknown }).code;
      return skip({ reason: "failed", code: typeof code === "string" ? code : "error" });
    }
  }
}
