import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The names models were pulled by, when that is not their installed name: Ollama's clients pull a
 * model and then use it by the name they pulled (`ollama run qwen2.5:0.5b` pulls, then chats with
 * `qwen2.5:0.5b`), while tandem installs it under a plain file name (`qwen2.5-0.5b.gguf`). Kept in
 * `<dataDir>/pulled-names.json`, beside the models folder rather than in it, so that the folder holds
 * only models and their settings (what a user copies in or out); read on each lookup so that a
 * restart, or a pull by `tandem models pull` beside the server, keeps them.
 */
const PULLED_NAMES_FILE = "pulled-names.json";
const LATEST = ":latest";

function pulledNamesPath(dataDir: string): string {
  return join(dataDir, PULLED_NAMES_FILE);
}

/**
 * The name a model pulled by `reference` goes by, as Ollama names it: the reference as written, with
 * `:latest` when its last part has no tag (`owner/repo` is `owner/repo:latest`). Undefined for a
 * reference that is no single name (a repo and a file) or a URL: Ollama has no name for those.
 */
export function pulledModelName(reference: string): string | undefined {
  const name = reference.trim();
  if (name.length === 0 || /\s/.test(name) || name.includes("://")) return undefined;
  const last = name.slice(name.lastIndexOf("/") + 1);
  return last.includes(":") ? name : name + LATEST;
}

/** Every pulled name and the installed model it stands for; empty when none was recorded or the file cannot be read. */
export async function readPulledNames(dataDir: string): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await readFile(pulledNamesPath(dataDir), "utf8");
  } catch {
    return new Map();
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return new Map();
    return new Map(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === "string"));
  } catch {
    return new Map();
  }
}

/** The installed model a pulled name (with or without its `:latest`) stands for, if one was recorded. */
export function installedNameOf(names: ReadonlyMap<string, string>, requested: string): string | undefined {
  return names.get(requested) ?? names.get(requested.endsWith(LATEST) ? requested : requested + LATEST);
}

/** One change to the file at a time in this process, so that two pulls finishing together both stay recorded. */
let writing: Promise<unknown> = Promise.resolve();

function updatePulledNames(dataDir: string, change: (names: Map<string, string>) => boolean): Promise<void> {
  const next = writing.then(async () => {
    const names = await readPulledNames(dataDir);
    if (!change(names)) return;
    const path = pulledNamesPath(dataDir);
    // Written aside and renamed into place, so that a reader never sees half a file.
    const temporary = `${path}.${process.pid}.tmp`;
    await mkdir(dataDir, { recursive: true });
    await writeFile(temporary, `${JSON.stringify(Object.fromEntries(names), null, 2)}\n`, "utf8");
    await rename(temporary, path);
  });
  writing = next.catch(() => {});
  return next;
}

/**
 * Records that `installed` was pulled by `reference` (see pulledModelName). Nothing is recorded when
 * the pulled name is the installed one, with or without `:latest`: that name resolves already.
 */
export async function recordPulledName(dataDir: string, reference: string, installed: string): Promise<void> {
  const pulled = pulledModelName(reference);
  if (pulled === undefined || pulled === installed || pulled === installed + LATEST) return;
  await updatePulledNames(dataDir, (names) => {
    if (names.get(pulled) === installed) return false;
    names.set(pulled, installed);
    return true;
  });
}

/** Forgets every pulled name of a model that was deleted, so that a later model of its file name does not inherit them. */
export async function forgetPulledNames(dataDir: string, installed: string): Promise<void> {
  await updatePulledNames(dataDir, (names) => {
    let changed = false;
    for (const [pulled, name] of names) {
      if (name === installed) changed = names.delete(pulled) || changed;
    }
    return changed;
  });
}
