/** A model the engine holds, as eviction sees it. */
export interface ResidentModel {
  name: string;
  /** When a request last used it (ms since the epoch). */
  lastUsedMs: number;
  /** A request holds or waits for one of its slots: never evicted. */
  busy: boolean;
  /** Bytes it occupies (its file size, at least). */
  bytes: number;
}

/** The model about to load. */
export interface IncomingModel {
  name: string;
  path: string;
  bytes: number;
}

/**
 * "Does this model fit now, next to the models still loaded?" The one question eviction asks; the
 * memory check behind it is the engine's to define (and to make smarter).
 */
export type FitCheck = (incoming: IncomingModel, resident: readonly ResidentModel[]) => boolean | Promise<boolean>;

/** A fixed budget for all loaded models together (a test seam, and a cap a user could set). */
export function budgetFits(budgetBytes: number): FitCheck {
  return (incoming, resident) => resident.reduce((sum, m) => sum + m.bytes, 0) + incoming.bytes <= budgetBytes;
}

/**
 * Makes room for `incoming`: while it does not fit, unloads the least recently used idle model.
 * Stops when it fits or nothing idle is left (the load then goes ahead and the engine's own check
 * decides). Returns the names unloaded, oldest first.
 */
export async function evictUntilFits(
  incoming: IncomingModel,
  resident: () => ResidentModel[],
  fits: FitCheck,
  unload: (name: string) => Promise<void>,
): Promise<string[]> {
  const evicted: string[] = [];
  for (;;) {
    // An unload that failed to free its entry is not tried twice (no endless loop).
    const now = resident().filter((m) => m.name !== incoming.name && !evicted.includes(m.name));
    if (await fits(incoming, now)) return evicted;
    const oldest = now.filter((m) => !m.busy).sort((a, b) => a.lastUsedMs - b.lastUsedMs)[0];
    if (!oldest) return evicted;
    await unload(oldest.name);
    evicted.push(oldest.name);
  }
}
