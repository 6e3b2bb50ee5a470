import type {
  Memory,
  MemoryChange,
  MemoryHit,
  MemoryListOptions,
  MemorySearch,
  MemoryStore,
  NewMemory,
} from "../../core/memory.js";
import type { ListPage } from "../../core/state.js";
import type { BackgroundStore } from "../../store/index.js";

/**
 * Memories in tandem's encrypted store (`<dataDir>/tandem.db`, tables from migration 7), read and
 * written on the store's own thread. A write resolves once committed; calls are answered in order,
 * so a search made after an add (even one not yet awaited) finds it.
 */
export class EncryptedMemoryStore implements MemoryStore {
  readonly #store: BackgroundStore;

  constructor(store: BackgroundStore) {
    this.#store = store;
  }

  add(memory: NewMemory): Promise<Memory> {
    return this.#store.memory("add", memory);
  }

  get(id: string): Promise<Memory | undefined> {
    return this.#store.memory("get", id);
  }

  list(options: MemoryListOptions): Promise<ListPage<Memory>> {
    return this.#store.memory("list", options);
  }

  update(id: string, change: MemoryChange): Promise<Memory | undefined> {
    return this.#store.memory("update", id, change);
  }

  delete(id: string): Promise<boolean> {
    return this.#store.memory("delete", id);
  }

  search(search: MemorySearch): Promise<MemoryHit[]> {
    return this.#store.memory("search", search);
  }
}
