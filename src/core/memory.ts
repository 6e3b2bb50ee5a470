import { randomBytes } from "node:crypto";
import type { Sensitivity } from "./sensitivity.js";
import type { ListPage } from "./state.js";

/**
 * Memory: what the user wants every model to remember about them (ChatGPT's saved memories,
 * Osaurus's local memory), kept on this machine and recalled into the requests of routes with
 * `memory: on`, whichever target answers. The harness implements the store over the encrypted
 * store (harness/memory/); the HTTP API (`/v1/memories`), the CLI, recall and the model's own
 * `remember`/`forget` tools use it.
 */

/** One memory as tandem's API shows it (`object: "memory"` is added by the HTTP API). */
export interface Memory {
  /** `mem_...`. */
  id: string;
  text: string;
  /** Seconds since the epoch. */
  created_at: number;
  /** Seconds since the epoch: the last change of its text or metadata. */
  updated_at: number;
  /**
   * How sensitive its text is: the highest of what the user declared and what privacy detection
   * found. A recalled private memory makes its request private.
   */
  sensitivity: Sensitivity;
  /** Up to 16 string pairs, as OpenAI's `metadata`. */
  metadata?: Record<string, string>;
}

/** A memory's vector, from the embedding model `model` (`provider/model`). */
export interface MemoryEmbedding {
  model: string;
  vector: number[];
}

export interface NewMemory {
  text: string;
  sensitivity: Sensitivity;
  metadata?: Record<string, string>;
  /** Absent when no embedding model is configured, or the memory may not be sent to the one that is. */
  embedding?: MemoryEmbedding;
}

/** A change to a memory: a new text comes with its new sensitivity and embedding (or none: the old vector is dropped). */
export interface MemoryChange {
  text?: { text: string; sensitivity: Sensitivity; embedding?: MemoryEmbedding };
  /** Replaces the metadata (`{}` clears it). */
  metadata?: Record<string, string>;
}

export interface MemoryListOptions {
  /** Start after the memory with this id (exclusive; an unknown one: ListPage.unknownCursor). */
  after?: string;
  /** 1..100. */
  limit: number;
  /** In the order they were made: oldest first (`asc`) or newest first (`desc`). */
  order: "asc" | "desc";
}

export interface MemorySearch {
  /** The text to match words of (FTS5 bm25). */
  text: string;
  /** The query's vector, when semantic search is on: memories with a vector of the same model are ranked by cosine too. */
  embedding?: MemoryEmbedding;
  /** At most this many hits. */
  limit: number;
  /** Hits scoring below this (0..1) are left out. */
  minScore: number;
}

/**
 * One search hit. `score` is in 0..1: the lexical score `s/(1+s)` of the memory's bm25 `s` (see
 * memory-terms.ts's bm25; 0 when no word matched), or, for a memory with a vector of the query's model, `0.7 * cosine + 0.3 * that`
 * (cosine below 0 counts as 0), so meaning outranks a shared word and a shared word breaks ties.
 */
export interface MemoryHit {
  memory: Memory;
  score: number;
}

/**
 * Where memories live. Every method may be called concurrently; an unknown id answers `undefined`
 * (`false` for delete), never throws. A delete removes the row and its vector for good.
 */
export interface MemoryStore {
  add(memory: NewMemory): Promise<Memory>;
  get(id: string): Promise<Memory | undefined>;
  list(options: MemoryListOptions): Promise<ListPage<Memory>>;
  update(id: string, change: MemoryChange): Promise<Memory | undefined>;
  delete(id: string): Promise<boolean>;
  /** Best first; ties by newest. */
  search(search: MemorySearch): Promise<MemoryHit[]>;
}

const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/**
 * A new memory id: `mem_` and 16 lower-case letters and digits (82 bits). Not the mixed-case ids of
 * other objects: recall shows the model each memory's id (so its `forget` tool can name one), and a
 * longer mixed-case id reads as a credential to privacy detection, which would make every request
 * with a recalled memory private.
 */
export function makeMemoryId(): string {
  let id = "mem_";
  // 252 is the largest multiple of 36 under 256: bytes above it are drawn again, so no letter is likelier.
  while (id.length < 20) {
    for (const byte of randomBytes(24)) {
      if (byte < 252 && id.length < 20) id += ID_ALPHABET[byte % 36];
    }
  }
  return id;
}

/** The score of a hit from its bm25 (higher is better) and its cosine, if any. */
export function memoryScore(bm25: number, cosine: number | undefined): number {
  const lexical = bm25 > 0 ? bm25 / (1 + bm25) : 0;
  if (cosine === undefined) return lexical;
  return 0.7 * Math.max(0, cosine) + 0.3 * lexical;
}

/** Cosine similarity of two vectors of the same length (0 when either is all zeros or lengths differ). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length === 0) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
