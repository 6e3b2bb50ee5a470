import type Sqlite from "better-sqlite3-multiple-ciphers";
import { unixSeconds } from "../core/ids.js";
import {
  cosineSimilarity,
  type Memory,
  type MemoryChange,
  type MemoryEmbedding,
  type MemoryHit,
  type MemoryListOptions,
  type MemorySearch,
  makeMemoryId,
  memoryScore,
  type NewMemory,
} from "../core/memory.js";
import { bm25, ftsQuery, ftsTerm, memoryTerms, memoryTokens } from "../core/memory-terms.js";
import type { Sensitivity } from "../core/sensitivity.js";
import { type ListPage, unknownCursorPage } from "../core/state.js";

interface MemoryRow {
  id: string;
  seq: number;
  text: string;
  created_at: number;
  updated_at: number;
  sensitivity: string;
  metadata: string | null;
}

interface VectorRow {
  seq: number;
  embedding: Buffer;
}

const COLUMNS = "id, seq, text, created_at, updated_at, sensitivity, metadata";
/** Lexical candidates read for one search before scoring: more than any recall asks for, bounded. */
const LEXICAL_CANDIDATES = 200;

/**
 * The memories (migration 7) over the store's open connection: the synchronous half of the
 * encrypted MemoryStore (src/harness/memory/encrypted-memory-store.ts), run on the store's thread.
 * Every write is one transaction, committed before the method returns; a delete removes the row, its
 * vector and its words from the full-text index (secure_delete and FTS5's secure-delete overwrite them).
 *
 * Vectors are ranked by brute-force cosine over the rows of the query's model: a person's memories
 * are hundreds or a few thousands, which this reads in milliseconds on the store's own thread.
 */
export class MemoryTables {
  readonly #db: Sqlite.Database;
  readonly #q;

  constructor(db: Sqlite.Database) {
    this.#db = db;
    this.#q = {
      insert: db.prepare<[string, string, number, number, string, string | null, string | null, Buffer | null]>(
        `INSERT INTO memories (id, text, created_at, updated_at, sensitivity, metadata, embedding_model, embedding)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      get: db.prepare<[string], MemoryRow>(`SELECT ${COLUMNS} FROM memories WHERE id = ?`),
      bySeq: db.prepare<[number], MemoryRow>(`SELECT ${COLUMNS} FROM memories WHERE seq = ?`),
      pageAsc: db.prepare<[number, number], MemoryRow>(`SELECT ${COLUMNS} FROM memories WHERE seq > ? ORDER BY seq LIMIT ?`),
      pageDesc: db.prepare<[number, number], MemoryRow>(
        `SELECT ${COLUMNS} FROM memories WHERE seq < ? ORDER BY seq DESC LIMIT ?`,
      ),
      setText: db.prepare<[string, string, string | null, Buffer | null, number, string]>(
        "UPDATE memories SET text = ?, sensitivity = ?, embedding_model = ?, embedding = ?, updated_at = ? WHERE id = ?",
      ),
      setMetadata: db.prepare<[string | null, number, string]>("UPDATE memories SET metadata = ?, updated_at = ? WHERE id = ?"),
      delete: db.prepare<[string]>("DELETE FROM memories WHERE id = ?"),
      lexical: db.prepare<[string, number], { seq: number; text: string }>(
        `SELECT m.seq, m.text FROM memories_fts f JOIN memories m ON m.seq = f.rowid
         WHERE memories_fts MATCH ? ORDER BY bm25(memories_fts) LIMIT ?`,
      ),
      having: db.prepare<[string], { doc: number }>("SELECT count(*) AS doc FROM memories_fts WHERE memories_fts MATCH ?"),
      totals: db.prepare<[], { documents: number; tokens: number | null }>(
        "SELECT (SELECT count(*) FROM memories) AS documents, (SELECT sum(cnt) FROM memories_vocab) AS tokens",
      ),
      vectors: db.prepare<[string], VectorRow>("SELECT seq, embedding FROM memories WHERE embedding_model = ?"),
    };
  }

  add(memory: NewMemory): Memory {
    const now = unixSeconds();
    const id = makeMemoryId();
    const embedding = memory.embedding;
    this.#q.insert.run(
      id,
      memory.text,
      now,
      now,
      memory.sensitivity,
      memory.metadata === undefined ? null : JSON.stringify(memory.metadata),
      embedding?.model ?? null,
      embedding ? vectorBytes(embedding.vector) : null,
    );
    return {
      id,
      text: memory.text,
      created_at: now,
      updated_at: now,
      sensitivity: memory.sensitivity,
      ...(memory.metadata !== undefined && { metadata: memory.metadata }),
    };
  }

  get(id: string): Memory | undefined {
    const row = this.#q.get.get(id);
    return row && memoryOf(row);
  }

  list(options: MemoryListOptions): ListPage<Memory> {
    // The cursor's place and the page are read in one transaction: a delete cannot come between.
    return this.#db
      .transaction((): ListPage<Memory> => {
        const from = options.after === undefined ? undefined : this.#q.get.get(options.after)?.seq;
        if (options.after !== undefined && from === undefined) return unknownCursorPage("after");
        const rows =
          options.order === "asc"
            ? this.#q.pageAsc.all(from ?? 0, options.limit + 1)
            : this.#q.pageDesc.all(from ?? Number.MAX_SAFE_INTEGER, options.limit + 1);
        return { data: rows.slice(0, options.limit).map(memoryOf), hasMore: rows.length > options.limit };
      })
      .deferred();
  }

  update(id: string, change: MemoryChange): Memory | undefined {
    let replacedText = false;
    const updated = this.#db.transaction(() => {
      if (this.#q.get.get(id) === undefined) return undefined;
      const now = unixSeconds();
      if (change.text !== undefined) {
        replacedText = true;
        const { text, sensitivity, embedding } = change.text;
        this.#q.setText.run(
          text,
          sensitivity,
          embedding?.model ?? null,
          embedding ? vectorBytes(embedding.vector) : null,
          now,
          id,
        );
      }
      if (change.metadata !== undefined) {
        const empty = Object.keys(change.metadata).length === 0;
        this.#q.setMetadata.run(empty ? null : JSON.stringify(change.metadata), now, id);
      }
      const row = this.#q.get.get(id);
      return row && memoryOf(row);
    })();
    this.#erased(replacedText);
    return updated;
  }

  delete(id: string): boolean {
    return this.#erased(this.#q.delete.run(id).changes > 0);
  }

  /**
   * After a delete (or a text replaced) commits, secure_delete has overwritten the old text in the
   * pages it wrote, but those pages sit in the WAL and their older versions in the main file: a
   * checkpoint that truncates the WAL puts the overwritten pages in place and leaves no old frame
   * behind (as StateTables does after its deletes). Best effort: a reader in another process can hold
   * it back until the next checkpoint.
   */
  #erased(changed: boolean): boolean {
    if (changed) this.#db.pragma("wal_checkpoint(TRUNCATE)");
    return changed;
  }

  search(search: MemorySearch): MemoryHit[] {
    const terms = memoryTerms(search.text);
    const lexical = new Map<number, number>();
    if (terms.length > 0) {
      const rows = this.#q.lexical.all(ftsQuery(terms), LEXICAL_CANDIDATES);
      if (rows.length > 0) {
        // FTS5 finds and orders the candidates; they are scored with the idf that stays positive (see bm25).
        const totals = this.#q.totals.get() ?? { documents: 0, tokens: 0 };
        const having = new Map(terms.map((term) => [term, this.#q.having.get(ftsTerm(term))?.doc ?? 0]));
        const stats = {
          documents: totals.documents,
          averageLength: totals.documents === 0 ? 0 : (totals.tokens ?? 0) / totals.documents,
          having: (term: string) => having.get(term) ?? 0,
        };
        for (const row of rows) lexical.set(row.seq, bm25(terms, memoryTokens(row.text), stats));
      }
    }
    const cosines = new Map<number, number>();
    if (search.embedding !== undefined) {
      const query = search.embedding.vector;
      for (const row of this.#q.vectors.iterate(search.embedding.model)) {
        cosines.set(row.seq, cosineSimilarity(query, vectorOf(row.embedding)));
      }
    }
    const scored: { seq: number; score: number }[] = [];
    for (const seq of new Set([...lexical.keys(), ...cosines.keys()])) {
      const score = memoryScore(lexical.get(seq) ?? 0, cosines.get(seq));
      if (score > 0 && score >= search.minScore) scored.push({ seq, score });
    }
    scored.sort((a, b) => b.score - a.score || b.seq - a.seq);
    const hits: MemoryHit[] = [];
    for (const { seq, score } of scored.slice(0, search.limit)) {
      const row = this.#q.bySeq.get(seq);
      if (row) hits.push({ memory: memoryOf(row), score });
    }
    return hits;
  }
}

function memoryOf(row: MemoryRow): Memory {
  return {
    id: row.id,
    text: row.text,
    created_at: row.created_at,
    updated_at: row.updated_at,
    sensitivity: row.sensitivity as Sensitivity,
    ...(row.metadata !== null && { metadata: JSON.parse(row.metadata) as Record<string, string> }),
  };
}

/** A vector as float32 little-endian bytes (half the size of doubles; embeddings carry no more precision). */
function vectorBytes(vector: MemoryEmbedding["vector"]): Buffer {
  const floats = Float32Array.from(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength);
}

function vectorOf(bytes: Buffer): Float32Array {
  // Copied: a Buffer's offset into its pool need not be 4-byte aligned.
  const copy = new Uint8Array(bytes);
  return new Float32Array(copy.buffer, 0, Math.floor(copy.byteLength / 4));
}
