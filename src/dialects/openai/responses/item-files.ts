import { fileAsText } from "../../../core/index.js";
import type { StateItem } from "../../../core/state.js";
import { type FileResolver, fileDataUrlOf, type ResolvedFile } from "../files/file-resolver.js";

type Json = Record<string, unknown>;

/**
 * The content parts of an item that may name files: a message's content (an easy message, as a
 * client may send it, has no `type`), a function call output's output.
 */
function partsOf(item: Json): unknown[] | undefined {
  if ((item.type === "message" || item.type === undefined) && Array.isArray(item.content)) return item.content;
  if (item.type === "function_call_output" && Array.isArray(item.output)) return item.output;
  return undefined;
}

/**
 * Starts resolving every file these items name: `input_file` and `input_image` parts by `file_id`
 * (tandem's Files API, where it has the file), and `input_file` parts with their bytes inline.
 */
export function resolveItemFiles(items: Iterable<StateItem>, resolver: FileResolver): void {
  for (const item of items) {
    for (const part of partsOf(item) ?? []) {
      if (part === null || typeof part !== "object") continue;
      const p = part as Json;
      if (p.type !== "input_file" && p.type !== "input_image") continue;
      if (typeof p.file_id === "string" && p.file_id !== "" && !(typeof p.image_url === "string" && p.image_url !== "")) {
        resolver.byId(p.file_id);
      } else if (p.type === "input_file" && typeof p.file_data === "string" && p.file_data !== "") {
        resolver.inline(p.file_data, typeof p.filename === "string" ? p.filename : undefined);
      }
    }
  }
}

/** The file a part names, once the resolver has settled: a stored file by id, or bytes sent inline. */
export function fileOfPart(part: Json, resolver: FileResolver): ResolvedFile | undefined {
  if (part.type !== "input_file" && part.type !== "input_image") return undefined;
  if (typeof part.file_id === "string" && part.file_id !== "" && !(typeof part.image_url === "string" && part.image_url !== "")) {
    return resolver.storedFile(part.file_id);
  }
  if (part.type === "input_file" && typeof part.file_data === "string" && part.file_data !== "") {
    return resolver.inlineFile(part.file_data, typeof part.filename === "string" ? part.filename : undefined);
  }
  return undefined;
}

/**
 * An item as a Responses-native upstream is sent it: parts by a `file_id` tandem has (the upstream
 * does not know tandem's ids) become the file itself: a text file an `input_text` with its name, an
 * image an `input_image` by data URL, anything else an `input_file` with `file_data`. Every other
 * part (bytes sent inline, the upstream's own ids) goes as it came. The item itself when nothing changed.
 */
export function withStoredFilesInline<T extends Json>(item: T, resolver: FileResolver): T {
  const parts = partsOf(item);
  if (parts === undefined) return item;
  let changed = false;
  const out = parts.map((part) => {
    if (part === null || typeof part !== "object") return part;
    const p = part as Json;
    if (typeof p.file_id !== "string" || (typeof p.image_url === "string" && p.image_url !== "")) return part;
    const file = fileOfPart(p, resolver);
    if (file === undefined) return part;
    changed = true;
    if (file.kind === "text") return { type: "input_text", text: fileAsText(file.filename, file.text) };
    if (file.kind === "image") return { type: "input_image", image_url: fileDataUrlOf(file), detail: p.detail ?? "auto" };
    return { type: "input_file", filename: file.filename, file_data: fileDataUrlOf(file) };
  });
  if (!changed) return item;
  return item.type === "function_call_output" ? { ...item, output: out } : { ...item, content: out };
}
