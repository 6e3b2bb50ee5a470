import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, rm, stat, writeFile } from "node:fs/promises";

/*
 * An unfinished download is `<name>.gguf.partial`, with a `.partial.json` note beside it saying
 * which repo file (and which version of it) the bytes belong to.
 */

/** What the `.partial.json` note beside a partial file remembers, so a resume never mixes two versions of a file. */
export interface PartialNote {
  repo: string;
  file: string;
  sha256?: string;
  size?: number;
}

export interface HashState {
  hash: Hash;
  /** How many bytes of the partial file `hash` covers. */
  bytes: number;
}

/** Makes `state` the sha256 of the partial file's first `length` bytes, reading it again unless it already is. */
export async function hashPrefix(path: string, length: number, state: HashState, signal: AbortSignal | undefined): Promise<void> {
  if (state.bytes === length) return;
  state.hash = createHash("sha256");
  state.bytes = 0;
  if (length === 0) return;
  for await (const chunk of createReadStream(path, { start: 0, end: length - 1, signal })) {
    state.hash.update(chunk as Buffer);
    state.bytes += (chunk as Buffer).length;
  }
}

export async function sizeOf(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  return info?.isFile() ? info.size : 0;
}

export async function readNote(path: string): Promise<PartialNote | undefined> {
  try {
    const value = JSON.parse(await readFile(path, "utf8")) as Partial<PartialNote>;
    if (typeof value.repo !== "string" || typeof value.file !== "string") return undefined;
    return {
      repo: value.repo,
      file: value.file,
      sha256: typeof value.sha256 === "string" ? value.sha256 : undefined,
      size: typeof value.size === "number" ? value.size : undefined,
    };
  } catch {
    return undefined;
  }
}

export async function writeNote(path: string, note: PartialNote): Promise<void> {
  await writeFile(path, `${JSON.stringify(note)}\n`);
}

export async function discardPartial(partial: string, notePath: string): Promise<void> {
  await rm(partial, { force: true });
  await rm(notePath, { force: true });
}
