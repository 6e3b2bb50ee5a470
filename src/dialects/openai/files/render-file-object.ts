import type { StoredFile } from "../../../core/index.js";

/**
 * The File object as OpenAI returns it (FileObject in the openai SDK), in its field order. The SDK's
 * type and OpenAI's spec make `expires_at` an optional number and `status_details` an optional
 * string, neither nullable: a file that never expires has no `expires_at`, and `status_details`
 * (deprecated, about fine-tuning files) is left out.
 */
export function renderFileObject(file: StoredFile): Record<string, unknown> {
  return {
    object: "file",
    id: file.id,
    purpose: file.purpose,
    filename: file.filename,
    bytes: file.bytes,
    created_at: file.createdAt,
    ...(file.expiresAt !== undefined && { expires_at: file.expiresAt }),
    // Deprecated, and still required by the types: a file is usable as soon as it is stored.
    status: "processed",
  };
}
