import type { FileContent, FileListOptions, FileStore, NewFile, StoredFile } from "../../core/files.js";
import type { ListPage } from "../../core/state.js";
import type { BackgroundStore } from "../../store/index.js";
import { type FileClock, systemClock } from "./file-clock.js";
import { storedFile } from "./stored-file.js";

/**
 * Files in tandem's encrypted store (`<dataDir>/tandem.db`, the `files` table of migration 8), read
 * and written on the store's own thread, as EncryptedStateStore keeps responses: a save resolves
 * once committed, and calls are answered in the order they were made. Expiry is judged by `clock`
 * (seconds), passed to every call, so an expired file is never shown and its bytes are deleted at
 * the next call.
 */
export class EncryptedFileStore implements FileStore {
  readonly #store: BackgroundStore;
  readonly #now: FileClock;

  constructor(store: BackgroundStore, clock: FileClock = systemClock) {
    this.#store = store;
    this.#now = clock;
  }

  async createFile(input: NewFile, data: Uint8Array): Promise<StoredFile> {
    const now = this.#now();
    const file = storedFile(input, data, now);
    // Moved to the store's thread, not copied, where it can be: `data` may be empty afterwards.
    await this.#store.saveFile(file, data, now);
    return file;
  }

  getFile(id: string): Promise<StoredFile | undefined> {
    return this.#store.files("getFile", id, this.#now());
  }

  async fileContent(id: string): Promise<FileContent | undefined> {
    const found = await this.#store.files("fileContent", id, this.#now());
    // The thread's Buffer arrives as a plain Uint8Array (moved or cloned).
    return found && { file: found.file, data: new Uint8Array(found.data.buffer, found.data.byteOffset, found.data.byteLength) };
  }

  listFiles(options: FileListOptions): Promise<ListPage<StoredFile>> {
    return this.#store.files("listFiles", options, this.#now());
  }

  deleteFile(id: string): Promise<boolean> {
    return this.#store.files("deleteFile", id, this.#now());
  }
}
