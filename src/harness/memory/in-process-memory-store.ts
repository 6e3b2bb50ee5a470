import { makeId, unixSeconds } from "../../core/ids.js";
import {
  cosineSimilarity,
  type Memory,
  type MemoryChange,
  type MemoryEmbedding,
  type MemoryHit,
  type MemoryListOptions,
  type MemorySearch,
  type MemoryStore,
  memoryScore,
  type NewMemory,
} from "../../core/memory.js";
import { memoryTerms, memoryTokens } from "../../core/memory-terms.js";

interface Kept {
  seq: number;
  memory: Memory;
  embedding?: MemoryEmbedding;
  /** The memory's tokens, as the full-text index holds them. */
  tokens: string[];
}

/** FTS5's bm25 constants. */
const K1 = 1.2;
const B = 0.75;

/**
 * Memories kept in this process only, lost at exit: for servers running without the encrypted store
 * (`store.enabled: false`) and for tests. Its word search scores as FTS5's bm25 does (same
 * tokens, same formula), so both stores rank alike. Values are copied in and out.
 */
export class InProcessMemoryStore implements MemoryStore {
  readonly #memories = new Map<string, Kept>();
  #seq = 0;

  async add(memory: NewMemory): Promise<Memory> {
    const now = unixSeconds();
    const kept: Memory = {
      id: makeId("mem_", 32),
      text: memory.text,
      created_at: now,
      updated_at: now,
      sensitivity: memory.sensitivity,
      ...(memory.metadata !== undefined && { metadata: { ...memory.metadata } }),
    };
    this.#memories.set(kept.id, {
      seq: ++this.#seq,
      memory: kept,
      tokens: memoryTokens(memory.text),
      ...(memory.embedding !== undefined && { embedding: structuredClone(memory.embedding) }),
    });
    return structuredClone(kept);
  }

  async get(id: string): Promise<Memory | undefined> {
    const kept = this.#memories.get(id);
    return kept && structuredClone(kept.memory);
  }

  async list(options: MemoryListOptions): Promise<{ data: Memory[]; hasMore: boolean }> {
    const all = [...this.#memories.values()];
    if (options.order === "desc") all.reverse();
    const start = options.after === undefined ? 0 : all.findIndex((k) => k.memory.id === options.after) + 1;
    return {
      data: all.slice(start, start + options.limit).map((k) => structuredClone(k.memory)),
      hasMore: start + options.limit < all.length,
    };
  }

  async update(id: string, change: MemoryChange): Promise<Memory | undefined> {
    const kept = this.#memories.get(id);
    if (kept === undefined) return undefined;
    const memory: Memory = { ...kept.memory, updated_at: unixSeconds() };
    let { embedding, tokens } = kept;
    if (change.text !== undefined) {
      memory.text = change.text.text;
      memory.sensitivity = change.text.sensitivity;
      embedding = change.text.embedding && structuredClone(change.text.embedding);
      tokens = memoryTokens(change.text.text);
    }
    if (change.metadata !== undefined) {
      if (Object.keys(change.metadata).length === 0) delete memory.metadata;
      else memory.metadata = { ...change.metadata };
    }
    this.#memories.set(id, { seq: kept.seq, memory, tokens, ...(embedding !== undefined && { embedding }) });
    return structuredClone(memory);
  }

  async delete(id: string): Promise<boolean> {
    return this.#memories.delete(id);
  }

  async search(search: MemorySearch): Promise<MemoryHit[]> {
    const terms = memoryTerms(search.text);
    const all = [...this.#memories.values()];
    const bm25 = bm25Scores(all, terms);
    const scored: { kept: Kept; score: number }[] = [];
    for (const [i, kept] of all.entries()) {
      const cosine =
        search.embedding !== undefined && kept.embedding?.model === search.embedding.model
          ? cosineSimilarity(search.embedding.vector, kept.embedding.vector)
          : undefined;
      const lexical = bm25[i] ?? 0;
      if (lexical === 0 && cosine === undefined) continue;
      const score = memoryScore(lexical, cosine);
      if (score > 0 && score >= search.minScore) scored.push({ kept, score });
    }
    scored.sort((a, b) => b.score - a.score || b.kept.seq - a.kept.seq);
    return scored.slice(0, search.limit).map(({ kept, score }) => ({ memory: structuredClone(kept.memory), score }));
  }
}

/** Each memory's bm25 for the terms (positive: higher is better; 0 when none matched), as FTS5 computes it. */
function bm25Scores(all: readonly Kept[], terms: readonly string[]): number[] {
  const scores = all.map(() => 0);
  if (terms.length === 0 || all.length === 0) return scores;
  const average = all.reduce((sum, k) => sum + k.tokens.length, 0) / all.length;
  for (const term of terms) {
    const counts = all.map((k) => k.tokens.filter((t) => t === term).length);
    const having = counts.filter((c) => c > 0).length;
    if (having === 0) continue;
    // FTS5 floors a negative idf (a word in more than half the rows) at 1e-6.
    const idf = Math.max(1e-6, Math.log((all.length - having + 0.5) / (having + 0.5)));
    for (const [i, count] of counts.entries()) {
      if (count === 0) continue;
      const length = all[i]?.tokens.length ?? 0;
      scores[i] = (scores[i] ?? 0) + (idf * (count * (K1 + 1))) / (count + K1 * (1 - B + (B * length) / average));
    }
  }
  return scores;
}
