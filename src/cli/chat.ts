import { createInterface } from "node:readline/promises";
import { readSse } from "../providers/http/sse.js";
import { authHeaders, clientKey, describeFetchError, fetchWithKey, serverUrl } from "./client.js";

interface ChatOptions {
  url?: string;
  key?: string;
  system?: string;
}

type WireMessage = { role: "system" | "user" | "assistant"; content: string };

/**
 * `tandem chat [model]`: an interactive streaming chat through the server, like `ollama run`.
 * Reads lines from a terminal or a pipe; `/bye` or end of input leaves, `/clear` forgets the history.
 */
export async function chat(model: string | undefined, options: ChatOptions): Promise<number> {
  const url = serverUrl(options.url);
  let key = clientKey(options.key, "chat", { asks: true });
  let name = model;
  try {
    // The model list first: it names the default model, and a 401 there is the moment to ask for a key.
    const listed = await fetchWithKey((headers) => fetch(`${url}/v1/models`, { headers }), key, url);
    key = listed.key;
    if (listed.res.status === 401) {
      process.stderr.write(
        "tandem chat: the server wants an API key: set TANDEM_API_KEY (or type it when asked on a terminal)\n",
      );
      return 1;
    }
    name ??= await defaultModel(listed.res);
  } catch (err) {
    process.stderr.write(`tandem chat: ${describeFetchError(url, err)}\n`);
    return 1;
  }
  if (!name) {
    process.stderr.write("tandem chat: the server has no models; see the README to add a provider\n");
    return 1;
  }
  const headers = { "content-type": "application/json", ...authHeaders(key) };
  const interactive = process.stdin.isTTY === true;
  const history: WireMessage[] = options.system ? [{ role: "system", content: options.system }] : [];
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: interactive });
  if (interactive) process.stdout.write(`Chatting with ${name} through ${url}. /bye to leave, /clear to forget.\n`);
  const controller = { current: undefined as AbortController | undefined };
  rl.on("SIGINT", () => {
    if (controller.current) controller.current.abort();
    else rl.close();
  });
  let status = 0;
  // Lines as they come, kept while an answer streams: piped input arrives all at once, and a line
  // read with no question pending would be lost.
  const lines = rl[Symbol.asyncIterator]();
  rl.setPrompt(">>> ");
  try {
    for (;;) {
      if (interactive) rl.prompt();
      const next = await lines.next().catch(() => ({ done: true as const, value: undefined }));
      if (next.done) break; // input closed
      const text = next.value.trim();
      if (!text) continue;
      if (text === "/bye" || text === "/exit") break;
      if (text === "/clear") {
        history.splice(options.system ? 1 : 0);
        continue;
      }
      history.push({ role: "user", content: text });
      controller.current = new AbortController();
      const answer = await streamAnswer(url, headers, name, history, controller.current.signal);
      controller.current = undefined;
      if (answer.ok) history.push({ role: "assistant", content: answer.text });
      else {
        history.pop();
        status = 1;
      }
    }
  } finally {
    rl.close();
  }
  return status;
}

async function defaultModel(res: Response): Promise<string | undefined> {
  const body = (await res.json()) as { data?: { id: string }[] };
  const ids = (body.data ?? []).map((m) => m.id);
  return ids.includes("auto") ? "auto" : ids[0];
}

async function streamAnswer(
  url: string,
  headers: Record<string, string>,
  model: string,
  messages: WireMessage[],
  signal: AbortSignal,
): Promise<{ ok: boolean; text: string }> {
  let text = "";
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers,
      body: JSON.stringify({ model, messages, stream: true }),
      signal,
    });
    if (!res.ok || !res.body) {
      const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
      process.stderr.write(`error ${res.status}: ${body.error?.message ?? res.statusText}\n`);
      return { ok: false, text };
    }
    for await (const event of readSse(res.body as AsyncIterable<Buffer>)) {
      if (event.data === "[DONE]") break;
      const chunk = JSON.parse(event.data) as { choices?: { delta?: { content?: string } }[]; error?: { message?: string } };
      if (chunk.error) {
        process.stderr.write(`\nerror: ${chunk.error.message}\n`);
        return { ok: false, text };
      }
      const piece = chunk.choices?.[0]?.delta?.content;
      if (piece) {
        text += piece;
        process.stdout.write(piece);
      }
    }
    process.stdout.write("\n");
    return { ok: true, text };
  } catch (err) {
    if (signal.aborted) {
      process.stdout.write("\n(interrupted)\n");
      return { ok: text.length > 0, text };
    }
    process.stderr.write(`error: ${describeFetchError(url, err)}\n`);
    return { ok: false, text };
  }
}
