import type { NewFile, StoredFile } from "../../core/files.js";
import { makeId } from "../../core/ids.js";

/** A new file's metadata: a new `file-` id (as OpenAI's: 24 letters and digits), created `now`. */
export function storedFile(input: NewFile, data: Uint8Array, now: number): StoredFile {
  return {
    id: makeId("file-", 24),
    createdAt: now,
    ...(input.expiresAfter !== undefined && { expiresAt: now + input.expiresAfter }),
    filename: input.filename,
    purpose: input.purpose,
    bytes: data.byteLength,
    mediaType: input.mediaType,
    ...(input.sensitivity !== undefined && { sensitivity: input.sensitivity }),
  };
}
