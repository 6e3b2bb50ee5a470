import { fileAsText } from "../../../core/index.js";
import { type FileResolver, fileDataUrlOf } from "./file-resolver.js";

type Json = Record<string, unknown>;

/** The `file` parts of a chat completions body's user messages (defensively: the body is not validated yet). */
function* fileParts(body: unknown): Generator<{ message: number; part: number; file: Json }> {
  const messages = (body as Json | null)?.messages;
  if (!Array.isArray(messages)) return;
  for (const [i, message] of messages.entries()) {
    const content = (message as Json | null)?.content;
    if ((message as Json | null)?.role !== "user" || !Array.isArray(content)) continue;
    for (const [j, part] of content.entries()) {
      const file = (part as Json | null)?.file;
      if ((part as Json | null)?.type === "file" && file !== null && typeof file === "object" && !Array.isArray(file)) {
        yield { message: i, part: j, file: file as Json };
      }
    }
  }
}

function fileIdOf(file: Json): string | undefined {
  return typeof file.file_id === "string" && file.file_id !== "" && !(typeof file.file_data === "string" && file.file_data !== "")
    ? file.file_id
    : undefined;
}

function inlineOf(file: Json): { data: string; filename: string | undefined } | undefined {
  if (typeof file.file_data !== "string" || file.file_data === "") return undefined;
  return { data: file.file_data, filename: typeof file.filename === "string" ? file.filename : undefined };
}

/** Starts resolving every file a chat completions body names (`{type: "file", file: {file_id | file_data}}`). */
export function resolveChatFiles(body: unknown, resolver: FileResolver): void {
  for (const { file } of fileParts(body)) {
    const id = fileIdOf(file);
    const inline = inlineOf(file);
    if (id !== undefined) resolver.byId(id);
    else if (inline !== undefined) resolver.inline(inline.data, inline.filename);
  }
}

/**
 * The body with its files given so that any OpenAI chat upstream reads them (the same-wire
 * pass-through sends it as it is): a part by a `file_id` tandem has, or with bytes inline, becomes
 * a text part (a text file, with its name) or an `image_url` part (an image); any other file a
 * `file` part with its bytes inline (`file_data`: what OpenAI reads as a document). A `file_id`
 * tandem does not have stays as it came (the upstream's own). The body itself when nothing changed.
 */
export function withChatFilesInline(body: unknown, resolver: FileResolver): unknown {
  let out: Json | undefined;
  for (const { message, part, file } of fileParts(body)) {
    const id = fileIdOf(file);
    const inline = inlineOf(file);
    const found = id !== undefined ? resolver.storedFile(id) : inline && resolver.inlineFile(inline.data, inline.filename);
    if (found === undefined) continue;
    // Bytes sent inline that OpenAI reads as a document already are left as they came.
    if (id === undefined && found.kind === "document") continue;
    let replacement: Json;
    if (found.kind === "text") replacement = { type: "text", text: fileAsText(found.filename, found.text) };
    else if (found.kind === "image") replacement = { type: "image_url", image_url: { url: fileDataUrlOf(found) } };
    else {
      const data = fileDataUrlOf(found);
      replacement = { type: "file", file: { filename: found.filename, file_data: data } };
      resolver.givenInline(data, found.filename, found);
    }
    out ??= { ...(body as Json), messages: [...((body as Json).messages as unknown[])] };
    const messages = out.messages as Json[];
    const copy = { ...(messages[message] as Json) };
    copy.content = [...(copy.content as unknown[])];
    (copy.content as unknown[])[part] = replacement;
    messages[message] = copy;
  }
  return out ?? body;
}
