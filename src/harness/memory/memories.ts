import { GatewayError } from "../../core/errors.js";
import type { Memory, MemoryChange, MemoryHit, MemoryListOptions, MemoryStore } from "../../core/memory.js";
import type { Sensitivity } from "../../core/sensitivity.js";
import type { ListPage } from "../../core/state.js";
import type { EmbedSkipped, MemoryEmbedder } from "./memory-embedder.js";

/** How sensitive a text is, by the privacy settings' detectors. */
export type ClassifyMemoryText = (text: string) => Sensitivity;

export interface MemoriesOptions {
  store: MemoryStore;
  classify: ClassifyMemoryText;
  /** Unset: memories are searched by their words only. */
  embedder?: MemoryEmbedder;
  /** The longest memory, in characters. Default 4000. */
  maxChars?: number;
}

/** What a client (the HTTP API, the CLI, the model's `remember` tool) asks to remember. */
export interface MemoryInput {
  text: string;
  metadata?: Record<string, string>;
  /** What the client declares (e.g. `private`); detection may raise it, never lower it. */
  sensitivity?: Sensitivity;
}

const LEVELS: readonly Sensitivity[] = ["public", "internal", "private"];

/**
 * The user's memories as tandem's parts use them: a memory's sensitivity is worked out (the
 * higher of what was declared and what privacy detection finds) and its vector made (when an
 * embedding model is configured and may see it) before it is stored; a search embeds its query the
 * same way. Holds no state of its own: the MemoryStore does.
 */
export class Memories {
  readonly store: MemoryStore;
  readonly #classify: ClassifyMemoryText;
  readonly #embedder: MemoryEmbedder | undefined;
  readonly #maxChars: number;

  constructor(options: MemoriesOptions) {
    this.store = options.store;
    this.#classify = options.classify;
    this.#embedder = options.embedder;
    this.#maxChars = options.maxChars ?? 4000;
  }

  /**
   * `under`: the client's request to a route the memory is saved in (the model's `remember`), whose
   * privacy then decides where its text may be embedded and whose name the egress audit records
   * (MemoryEmbedder.embed's `route` and `floor`); unset for a memory added outside any route.
   */
  async add(input: MemoryInput, signal: AbortSignal, under: { route?: string; floor?: Sensitivity } = {}): Promise<Memory> {
    const text = this.#checked(input.text);
    const sensitivity = this.#sensitivityOf(text, input.sensitivity);
    const embedding = await this.#embedder?.embed(text, sensitivity, signal, under.route, under.floor);
    return this.store.add({
      text,
      sensitivity,
      ...(input.metadata !== undefined && { metadata: input.metadata }),
      ...(embedding !== undefined && { embedding }),
    });
  }

  /**
   * A new text (re-classified and re-embedded), new metadata, or a declared sensitivity; `undefined`
   * when the id is unknown. A new text without a declared level keeps the memory's level as its
   * floor: editing a private memory does not make it public.
   */
  async update(id: string, input: Partial<MemoryInput>, signal: AbortSignal): Promise<Memory | undefined> {
    const change: MemoryChange = {};
    if (input.text !== undefined || input.sensitivity !== undefined) {
      const current = await this.store.get(id);
      if (current === undefined) return undefined;
      const text = input.text === undefined ? current.text : this.#checked(input.text);
      const sensitivity = this.#sensitivityOf(text, input.sensitivity ?? current.sensitivity);
      const embedding = await this.#embedder?.embed(text, sensitivity, signal);
      change.text = { text, sensitivity, ...(embedding !== undefined && { embedding }) };
    }
    if (input.metadata !== undefined) change.metadata = input.metadata;
    return this.store.update(id, change);
  }

  get(id: string): Promise<Memory | undefined> {
    return this.store.get(id);
  }

  list(options: MemoryListOptions): Promise<ListPage<Memory>> {
    return this.store.list(options);
  }

  delete(id: string): Promise<boolean> {
    return this.store.delete(id);
  }

  /**
   * The memories most relevant to `text`, best first, and why the query was not embedded when an
   * embedding model is configured (the search was then by words only). `sensitivity`: the query's,
   * when the client declared it (it decides where the query may be embedded); undefined: the router
   * classifies it. `route`: the route whose request the query comes from (recall), whose privacy
   * decides where it may be embedded; `floor`: that request's least level (a stored conversation's).
   */
  async search(
    text: string,
    options: {
      limit: number;
      minScore: number;
      sensitivity?: Sensitivity | undefined;
      route?: string;
      floor?: Sensitivity | undefined;
    },
    signal: AbortSignal,
  ): Promise<{ hits: MemoryHit[]; notEmbedded?: EmbedSkipped }> {
    const made =
      text.trim() === ""
        ? undefined
        : await this.#embedder?.made(text, options.sensitivity, signal, options.route, options.floor);
    const embedding = made !== undefined && "vector" in made ? made : undefined;
    const hits = await this.store.search({
      text,
      limit: options.limit,
      minScore: options.minScore,
      ...(embedding !== undefined && { embedding }),
    });
    return made === undefined || embedding !== undefined ? { hits } : { hits, notEmbedded: made as EmbedSkipped };
  }

  #checked(text: string): string {
    const trimmed = text.trim();
    if (trimmed === "") throw new GatewayError("invalid_request", "A memory's text must not be empty", { param: "text" });
    if (trimmed.length > this.#maxChars) {
      throw new GatewayError(
        "invalid_request",
        `A memory's text is at most ${this.#maxChars} characters (memory.maxChars); this one has ${trimmed.length}`,
        { param: "text" },
      );
    }
    return trimmed;
  }

  #sensitivityOf(text: string, declared: Sensitivity | undefined): Sensitivity {
    const found = this.#classify(text);
    return LEVELS.indexOf(found) >= LEVELS.indexOf(declared ?? "public") ? found : (declared as Sensitivity);
  }
}
