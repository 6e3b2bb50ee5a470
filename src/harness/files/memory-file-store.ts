import type { FileContent, FileListOptions, FileStore, NewFile, StoredFile } from "../../core/files.js";
import { startAfter } from "../../core/page-items.js";
import { type ListPage, unknownCursorPage } from "../../core/state.js";
import { type FileClock, systemClock } from "./file-clock.js";
import { storedFile } from "./stored-file.js";

/**
 * Files kept in this process only, lost at exit: for servers running without the encrypted store
 * (`store.enabled: false`) and for tests. Bytes are copied in and out, so a caller that changes what
 * it saved or read changes nothing here. Expired files are dropped at the next call, as the
 * encrypted store drops them.
 */
export class MemoryFileStore implements FileStore {
  /** In creation order (a Map keeps insertion order). */
  readonly #files = new Map<string, FileContent>();
  readonly #now: FileClock;

  constructor(clock: FileClock = systemClock) {
    this.#now = clock;
  }

  async createFile(input: NewFile, data: Uint8Array): Promise<StoredFile> {
    this.#expire();
    const file = storedFile(input, data, this.#now());
    this.#files.set(file.id, { file: { ...file }, data: new Uint8Array(data) });
    return { ...file };
  }

  async getFile(id: string): Promise<StoredFile | undefined> {
    this.#expire();
    const found = this.#files.get(id);
    return found && { ...found.file };
  }

  async fileContent(id: string): Promise<FileContent | undefined> {
    this.#expire();
    const found = this.#files.get(id);
    return found && { file: { ...found.file }, data: new Uint8Array(found.data) };
  }

  async listFiles(options: FileListOptions): Promise<ListPage<StoredFile>> {
    this.#expire();
    const listed = [...this.#files.values()]
      .map((f) => f.file)
      .filter((f) => options.purpose === undefined || f.purpose === options.purpose);
    if (options.order === "desc") listed.reverse();
    // The cursor must be a file of the list asked for (of its purpose, when one is given), as the
    // encrypted store's must: one of another purpose names nothing in it, a 404.
    const start = startAfter(listed, options.after, (f) => f.id);
    if (start === undefined) return unknownCursorPage("after");
    const files = listed.slice(start);
    return { data: files.slice(0, options.limit).map((f) => ({ ...f })), hasMore: files.length > options.limit };
  }

  async deleteFile(id: string): Promise<boolean> {
    this.#expire();
    return this.#files.delete(id);
  }

  #expire(): void {
    const now = this.#now();
    for (const [id, { file }] of this.#files) {
      if (file.expiresAt !== undefined && file.expiresAt <= now) this.#files.delete(id);
    }
  }
}
