/**
 * The files tandem keeps for the user (OpenAI's Files API): bytes in the encrypted store, named by
 * `file-…` ids that requests use in `input_file`/`input_image` parts and chat completions' `file`
 * parts, so any target can be given them. The harness implements this over the encrypted store
 * (harness/files/) and in memory when the store is off; the Files routes and the request
 * resolvers use it.
 */
import type { Sensitivity } from "./sensitivity.js";
import type { ListPage } from "./state.js";

/** What a client uploads a file for (FilePurpose in the openai SDK). */
export const FILE_PURPOSES = ["assistants", "batch", "fine-tune", "vision", "user_data", "evals"] as const;
export type FilePurpose = (typeof FILE_PURPOSES)[number];
/** A stored file's purpose: one a client uploads for, or `batch_output` (a batch's output and error files, tandem's own). */
export type StoredFilePurpose = FilePurpose | "batch_output";

/** A stored file's metadata: what the File object shows, plus the media type tandem found. */
export interface StoredFile {
  /** `file-` and 24 letters and digits, as OpenAI's. */
  id: string;
  /** Seconds since the epoch. */
  createdAt: number;
  /** Seconds since the epoch; absent: kept until deleted. A file past it is gone. */
  expiresAt?: number;
  filename: string;
  purpose: StoredFilePurpose;
  bytes: number;
  /**
   * What the bytes are (`application/pdf`, `text/markdown`, `image/png`...), from their first bytes,
   * the file name's extension and the upload's Content-Type, in that order: how GET …/content labels
   * them and how a request gives them to a target.
   */
  mediaType: string;
  /**
   * The level the client declared when it uploaded the file (`x-tandem-sensitivity`): the least
   * level of every vector store chunk made of it and of every request that names it; detection can
   * only raise it. Absent: none declared (or `public`), detection alone. Not shown in the File object.
   */
  sensitivity?: FileSensitivity;
}

/** A file's declared level, kept only when it is more than public. */
export type FileSensitivity = Exclude<Sensitivity, "public">;

/** What an upload gives a store to create a file from. */
export interface NewFile {
  filename: string;
  purpose: StoredFilePurpose;
  mediaType: string;
  /** Seconds after its creation that the file expires; absent: kept until deleted. */
  expiresAfter?: number;
  /** The level the upload declared (StoredFile.sensitivity); absent: none. */
  sensitivity?: FileSensitivity;
}

/** A file's metadata and its bytes. */
export interface FileContent {
  file: StoredFile;
  data: Uint8Array;
}

export interface FileListOptions {
  /** Only files of this purpose. */
  purpose?: string;
  /** Start after the file with this id (exclusive); an unknown one: ListPage.unknownCursor. */
  after?: string;
  /** 1..10000. */
  limit: number;
  /** By creation: `asc` oldest first, `desc` newest first. */
  order: "asc" | "desc";
}

/**
 * Where files live. Every method may be called concurrently. An unknown or expired id answers
 * `undefined` (or `false` for a delete), never throws; an expired file is never listed, and its bytes
 * are deleted the next time the store is used after it expired. Deletes are real deletes.
 */
export interface FileStore {
  /**
   * Stores a new file under a new id, created now by the store's clock; resolves once it is committed.
   * The store takes `data`: it may move its buffer elsewhere (another thread), leaving it empty.
   */
  createFile(file: NewFile, data: Uint8Array): Promise<StoredFile>;
  getFile(id: string): Promise<StoredFile | undefined>;
  fileContent(id: string): Promise<FileContent | undefined>;
  listFiles(options: FileListOptions): Promise<ListPage<StoredFile>>;
  deleteFile(id: string): Promise<boolean>;
}

/**
 * The text of a document (a PDF) for targets that cannot read the document itself; `undefined` when
 * it has none that can be read (a scan, a damaged file). Honours the signal.
 */
export type DocumentText = (data: Uint8Array, mediaType: string, signal?: AbortSignal) => Promise<string | undefined>;
