import type { StoredFile } from "../../../core/index.js";

/** The File object as OpenAI returns it (FileObject in the openai SDK), in its field order. */
export function renderFileObject(file: StoredFile): Record<string, unknown> {
  return {
    object: "file",
    id: file.id,
    purpose: file.purpose,
    filename: file.filename,
    bytes: file.bytes,
    created_at: file.createdAt,
    expires_at: file.expiresAt ?? null,
    // Deprecated fields OpenAI still sends: a file is usable as soon as it is stored.
    status: "processed",
    status_details: null,
  };
}
