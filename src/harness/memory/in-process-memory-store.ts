import { unixSeconds } from "../../core/ids.js";
import {
  cosineSimilarity,
  type Memory,
  type MemoryChange,
  type MemoryEmbedding,
  type MemoryHit,
  type MemoryListOptions,
  type MemorySearch,
  type MemoryStore,
  makeMemoryId,
  memoryScore,
  type NewMemory,
} from "../../core/memory.js";
import { bm25, memoryTerms, memoryTokens, stemMatches } from "../../core/memory-terms.js";
import { startAfter } from "../../core/page-items.js";
import { type ListPage, unknownCursorPage } from "../../core/state.js";

interface Kept {
  seq: number;
  memory: Memory;
  embedding?: MemoryEmbedding;
  /** The memory's tokens, as the full-text index holds them. */
  tokens: string[];
}

/**
 * Memories kept in this process only, lost at exit: for servers running without the encrypted store
 * (`store.enabled: false`) and for tests. Its word search scores as the encrypted store's does
 * (the same tokens and bm25), so both stores rank alike. Values are copied in and out.
 */
export class InProcessMemoryStore implements MemoryStore {
  readonly #memories = new Map<string, Kept>();
  #seq = 0;

  async add(memory: NewMemory): Promise<Memory> {
    const now = unixSeconds();
    const kept: Memory = {
      id: makeMemoryId(),
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

  async list(options: MemoryListOptions): Promise<ListPage<Memory>> {
    const all = [...this.#memories.values()];
    if (options.order === "desc") all.reverse();
    const start = startAfter(all, options.after, (k) => k.memory.id);
    if (start === undefined) return unknownCursorPage("after");
    return {
      data: all.slice(start, start + options.limit).map((k) => structuredClone(k.memory)),
      hasMore: start + options.limit < all.length,
    };
  }

  async update(id: string, change: MemoryChange): Promise<Memory | undefined> {
    const kept = this.#memories.get(id);
    if (kept === undefined) return undefined;
    const memory: Memory = {
      ...kept.memory,
      ...((change.text !== undefined || change.metadata !== undefined) && { updated_at: unixSeconds() }),
    };
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
    const lexicalScores = bm25Scores(all, terms);
    const scored: { kept: Kept; score: number }[] = [];
    for (const [i, kept] of all.entries()) {
      const cosine =
        search.embedding !== undefined && kept.embedding?.model === search.embedding.model
          ? cosineSimilarity(search.embedding.vector, kept.embedding.vector)
          : undefined;
      const lexical = lexicalScores[i] ?? 0;
      if (lexical === 0 && cosine === undefined) continue;
      const score = memoryScore(lexical, cosine);
      if (score > 0 && score >= search.minScore) scored.push({ kept, score });
    }
    scored.sort((a, b) => b.score - a.score || b.kept.seq - a.kept.seq);
    return scored.slice(0, search.limit).map(({ kept, score }) => ({ memory: structuredClone(kept.memory), score }));
  }
}

/** Each memory's bm25 for the terms (0 when none matched). */
function bm25Scores(all: readonly Kept[], terms: readonly string[]): number[] {
  if (terms.length === 0 || all.length === 0) return all.map(() => 0);
  const averageLength = all.reduce((sum, k) => sum + k.tokens.length, 0) / all.length;
  const having = new Map(
    terms.map((term) => [term, all.filter((k) => k.tokens.some((token) => stemMatches(term, token))).length]),
  );
  const stats = { documents: all.length, averageLength, having: (term: string) => having.get(term) ?? 0 };
  return all.map((k) => bm25(terms, k.tokens, stats));
}
