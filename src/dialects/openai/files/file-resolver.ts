import {
  type ContentPart,
  type FileSensitivity,
  fileMediaType,
  GatewayError,
  type ImageDetail,
  isImageMediaType,
  isStoreFailure,
  isTextMediaType,
  storeUnavailable,
} from "../../../core/index.js";
import type { FilesService } from "../../shared/index.js";

/**
 * A file as a request gives it to a model: a text file as its text (with its name), an image as an
 * image, anything else (a PDF) as a document with its text where it has one.
 */
export type ResolvedFile =
  | { kind: "text"; filename: string; mediaType: string; data: string; text: string }
  | { kind: "image"; mediaType: string; data: string }
  | { kind: "document"; filename: string; mediaType: string; data: string; text?: string };

const DATA_URL = /^data:([^;,]*)((?:;[^;,]*)*),/;
const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

/**
 * Whether `file_data` is what OpenAI takes: a base64 `data:` URL (`data:application/pdf;base64,...`),
 * or the base64 alone.
 */
export function isFileData(value: string): boolean {
  const match = DATA_URL.exec(value);
  if (match) return (match[2] ?? "").split(";").includes("base64");
  return value !== "" && BASE64.test(value.slice(0, 4096)) && BASE64.test(value.slice(-4096));
}

/**
 * Resolves the files one request names, each once however often it is named: a `file_id` of the
 * Files API (read from the store; `undefined` when tandem has no such file, so it stays the
 * upstream's id), or bytes sent inline as a base64 `data:` URL (`file_data`). PDFs' text is
 * extracted here, for the targets that cannot read a PDF and for privacy classification.
 */
export class FileResolver {
  readonly #files: FilesService | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #found = new Map<string, Promise<ResolvedFile | undefined>>();
  readonly #settled = new Map<string, ResolvedFile | undefined>();
  /** How often the request names each stored file, and the files' sizes: what it would carry. */
  readonly #named = new Map<string, number>();
  readonly #bytes = new Map<string, number>();
  /** The most sensitive level the stored files named were uploaded with (StoredFile.sensitivity). */
  #declared: FileSensitivity | undefined;

  constructor(files: FilesService | undefined, signal?: AbortSignal) {
    this.#files = files;
    this.#signal = signal;
  }

  /** Starts resolving a stored file by id (no-op without a Files API). */
  byId(id: string): void {
    const files = this.#files;
    if (files === undefined) return;
    this.#named.set(id, (this.#named.get(id) ?? 0) + 1);
    this.#start(`id:${id}`, async () => {
      const found = await files.store.fileContent(id);
      if (found) this.#bytes.set(id, found.data.byteLength);
      const level = found?.file.sensitivity;
      if (level !== undefined && this.#declared !== "private") this.#declared = level;
      return found && this.#resolve(found.data, found.file.filename, found.file.mediaType);
    });
  }

  /** Starts resolving bytes sent inline (`isFileData`; anything else resolves to nothing). */
  inline(fileData: string, filename: string | undefined): void {
    this.#start(`data:${filename ?? ""}:${fileData}`, async () => {
      if (!isFileData(fileData)) return undefined;
      const match = DATA_URL.exec(fileData);
      const data = Buffer.from(match ? fileData.slice(match[0].length) : fileData, "base64");
      if (data.byteLength === 0) return undefined;
      return this.#resolve(data, filename ?? "file", fileMediaType(data, filename, match?.[1]));
    });
  }

  /**
   * Waits for everything started. A store that cannot be read right now (a busy or full disk) is a
   * 503 the client may retry, never a 500; the client going away cancels. The stored files named,
   * each counted as often as it is named (every naming is sent), may come to `files.maxBytes` at
   * most: past it a 413, so that a small body naming one file many times never builds a huge one.
   */
  async settle(): Promise<void> {
    await this.#settleAll();
    const maxBytes = this.#files?.maxBytes;
    if (maxBytes === undefined) return;
    let total = 0;
    for (const [id, times] of this.#named) total += times * (this.#bytes.get(id) ?? 0);
    if (total > maxBytes) {
      throw new GatewayError(
        "payload_too_large",
        `The stored files this request names come to ${total} bytes, each counted as often as it is named; a request carries at most files.maxBytes (${maxBytes}) of them.`,
      );
    }
  }

  async #settleAll(): Promise<void> {
    for (const [key, pending] of this.#found) {
      try {
        this.#settled.set(key, await pending);
      } catch (err) {
        if (this.#signal?.aborted) throw new GatewayError("canceled", "The client closed the connection", { cause: err });
        if (isStoreFailure(err)) throw storeUnavailable(err);
        throw err;
      }
    }
  }

  /**
   * Once settled, the most sensitive level declared for a stored file this request names (when it
   * was uploaded, StoredFile.sensitivity): the least the request is, whatever detection finds in the
   * file's text. Undefined: none of them declared one.
   */
  declaredSensitivity(): FileSensitivity | undefined {
    return this.#declared;
  }

  /**
   * Once settled, what the request holds that was declared private at upload (ChatRequest.
   * declaredPrivate), which redaction cannot make safe; undefined when no stored file it names was
   * uploaded as private.
   */
  declaredPrivate(): string[] | undefined {
    return this.#declared === "private" ? ["a file uploaded as private"] : undefined;
  }

  /** A stored file by id, once settled; `undefined` when tandem has none. */
  storedFile(id: string): ResolvedFile | undefined {
    return this.#settled.get(`id:${id}`);
  }

  /** Bytes sent inline, once settled. */
  inlineFile(fileData: string, filename: string | undefined): ResolvedFile | undefined {
    return this.#settled.get(`data:${filename ?? ""}:${fileData}`);
  }

  /** Notes a file as given inline by a rewritten body (chat-files.ts), so the canonical conversion finds it there too. */
  givenInline(fileData: string, filename: string | undefined, file: ResolvedFile): void {
    this.#settled.set(`data:${filename ?? ""}:${fileData}`, file);
  }

  #start(key: string, resolve: () => Promise<ResolvedFile | undefined>): void {
    if (this.#found.has(key)) return;
    const pending = resolve();
    // Awaited by settle(); until then a failure must not count as unhandled.
    pending.catch(() => {});
    this.#found.set(key, pending);
  }

  async #resolve(data: Uint8Array, filename: string, mediaType: string): Promise<ResolvedFile> {
    const base64 = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64");
    if (isTextMediaType(mediaType))
      return { kind: "text", filename, mediaType, data: base64, text: new TextDecoder().decode(data) };
    if (isImageMediaType(mediaType)) return { kind: "image", mediaType, data: base64 };
    const text = await this.#files?.documentText(data, mediaType, this.#signal);
    return { kind: "document", filename, mediaType, data: base64, ...(text !== undefined && { text }) };
  }
}

/**
 * A resolved file as canonical content: an image as an image part (with the detail the client
 * asked for), anything else as a file part with its text where it has one (each provider gives a
 * text file as its text, with its name).
 */
export function filePartsOf(file: ResolvedFile, detail?: ImageDetail): ContentPart[] {
  switch (file.kind) {
    case "image":
      return [
        {
          type: "image",
          source: { kind: "base64", mediaType: file.mediaType, data: file.data },
          ...(detail !== undefined && { detail }),
        },
      ];
    case "text":
    case "document":
      return [
        {
          type: "file",
          mediaType: file.mediaType,
          data: file.data,
          filename: file.filename,
          ...(file.text !== undefined && { text: file.text }),
        },
      ];
  }
}

/** A data: URL of a resolved file's bytes (an image's `image_url`, a document's `file_data`). */
export function fileDataUrlOf(file: ResolvedFile): string {
  return `data:${file.mediaType};base64,${file.data}`;
}
