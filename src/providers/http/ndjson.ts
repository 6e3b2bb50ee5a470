import { StringDecoder } from "node:string_decoder";

/** Yields one parsed JSON value per line of a newline-delimited JSON body (Ollama's stream format). */
export async function* readNdjson(body: AsyncIterable<Buffer | string>): AsyncGenerator<unknown> {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  for await (const chunk of body) {
    pending += typeof chunk === "string" ? chunk : decoder.write(chunk);
    let newline = pending.indexOf("\n");
    while (newline !== -1) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line) yield JSON.parse(line);
      newline = pending.indexOf("\n");
    }
  }
  pending += decoder.end();
  const last = pending.trim();
  if (last) yield JSON.parse(last);
}
