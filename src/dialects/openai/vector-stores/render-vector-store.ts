import type {
  ChunkHit,
  VectorStoreFileBatchRecord,
  VectorStoreFileRecord,
  VectorStoreRecord,
} from "../../../core/vector-stores.js";

const DAY_S = 86_400;

/**
 * A vector store as OpenAI's `vector_store` object (openai-node's VectorStore). The `description` a
 * client may send when creating one is kept but not shown: neither the SDK's type nor OpenAI's spec
 * has the field on the object.
 */
export function renderVectorStore(store: VectorStoreRecord, now: number) {
  const expiresAt = store.expiresAfterDays === undefined ? null : store.lastActiveAt + store.expiresAfterDays * DAY_S;
  const status =
    expiresAt !== null && expiresAt <= now ? "expired" : store.fileCounts.in_progress > 0 ? "in_progress" : "completed";
  return {
    id: store.id,
    object: "vector_store",
    created_at: store.createdAt,
    name: store.name,
    usage_bytes: store.usageBytes,
    file_counts: store.fileCounts,
    status,
    ...(store.expiresAfterDays !== undefined && { expires_after: { anchor: "last_active_at", days: store.expiresAfterDays } }),
    expires_at: expiresAt,
    last_active_at: store.lastActiveAt,
    metadata: store.metadata ?? {},
  };
}

/** A file of a vector store as OpenAI's `vector_store.file` object; `auto` chunking shows as the static 800/400 it is. */
export function renderVectorStoreFile(file: VectorStoreFileRecord) {
  return {
    id: file.fileId,
    object: "vector_store.file",
    usage_bytes: file.usageBytes,
    created_at: file.createdAt,
    vector_store_id: file.vectorStoreId,
    status: file.status,
    last_error: file.lastError ?? null,
    chunking_strategy: {
      type: "static",
      static: { max_chunk_size_tokens: file.chunking.maxChunkSizeTokens, chunk_overlap_tokens: file.chunking.chunkOverlapTokens },
    },
    attributes: file.attributes ?? {},
  };
}

/** One search result (openai-node's VectorStoreSearchResponse). */
export function renderSearchResult(hit: ChunkHit) {
  return {
    file_id: hit.fileId,
    filename: hit.filename,
    score: hit.score,
    attributes: hit.attributes ?? {},
    content: [{ type: "text", text: hit.text }],
  };
}

/** A batch of files as OpenAI's `vector_store.files_batch` object (openai-node's VectorStoreFileBatch). */
export function renderFileBatch(batch: VectorStoreFileBatchRecord) {
  return {
    id: batch.id,
    object: "vector_store.files_batch",
    created_at: batch.createdAt,
    vector_store_id: batch.vectorStoreId,
    status: batch.status,
    file_counts: batch.fileCounts,
  };
}
