/**
 * Same-wire pass-through for Ollama: an Ollama client's /api/chat or /api/generate request reaches
 * an Ollama upstream as the client sent it (`options` with every Modelfile option, `format`,
 * `keep_alive`, `think`, `images`, `tools`, unknown fields), but for the model, `stream` and what the
 * route redacts; the upstream's NDJSON lines reach the client as they came (thinking, counts,
 * durations), but for their model. Through the official `ollama` client, streamed and not. Also:
 * failover before any byte to a target of another kind; redaction on the native path.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Ollama } from "ollama";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const NDJSON = "application/x-ndjson";
const CREATED = "2026-12-03T19:00:00.000000Z";
const FINAL = {
  done_reason: "stop",
  total_duration: 4883583458,
  load_duration: 1334875,
  prompt_eval_count: 26,
  prompt_eval_duration: 342546000,
  eval_count: 9,
  eval_duration: 4535599000,
};

/** The answer, split as the upstream streams it: JSON, as the request's `format` asks. */
const PARTS = ['{"a":"Fi', 'ne."}'];
const ANSWER = PARTS.join("");

function line(value: object): string {
  return `${JSON.stringify(value)}\n`;
}

/** A token's logprob as Ollama gives it on each line (with `logprobs: true`). */
function logprob(token: string): Record<string, unknown> {
  return { token, logprob: -0.25, bytes: [...Buffer.from(token)], top_logprobs: [] };
}

/** /api/chat as Ollama streams it: a thinking line, the text lines (each with its logprobs), the done line. */
function chatLines(texts: string[]): string[] {
  const base = { model: "llama-up", created_at: CREATED };
  return [
    line({ ...base, message: { role: "assistant", content: "", thinking: "Hmm." }, done: false }),
    ...texts.map((text) =>
      line({ ...base, message: { role: "assistant", content: text }, logprobs: [logprob(text)], done: false }),
    ),
    line({ ...base, message: { role: "assistant", content: "" }, done: true, ...FINAL }),
  ];
}

function wholeChat(text: string): Record<string, unknown> {
  return {
    model: "llama-up",
    created_at: CREATED,
    message: { role: "assistant", content: text, thinking: "Hmm." },
    done: true,
    ...FINAL,
  };
}

/** /api/generate as Ollama streams it. */
function generateLines(texts: string[]): string[] {
  const base = { model: "llama-up", created_at: CREATED };
  return [
    ...texts.map((text) => line({ ...base, response: text, done: false })),
    line({ ...base, response: "", done: true, context: [1, 2, 3], ...FINAL }),
  ];
}

/** A 1x1 PNG, base64 as Ollama takes images. */
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

const TOOLS = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "Weather",
      parameters: { type: "object", properties: { city: { type: "string" } } },
    },
  },
];

/** A chat request with what the canonical form does not carry. */
const CHAT = {
  messages: [{ role: "user", content: "Hi", images: [PNG] }],
  options: { temperature: 0.2, num_ctx: 8192, mirostat: 2, repeat_penalty: 1.1 },
  format: { type: "object", properties: { a: { type: "string" } } },
  keep_alive: "10m",
  think: true,
  tools: TOOLS,
  x_future_field: { nested: [1, "two", null] },
};

let upstream: ScriptedUpstream;
let openai: FakeOpenAIUpstream;
let tandem: RunningTandem;
let client: Ollama;

before(async () => {
  upstream = await startScriptedUpstream();
  openai = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  const fast = { retry: { attempts: 1 }, timeouts: { firstTokenMs: 5000, idleMs: 5000 } };
  tandem = await startTandem({
    providers: {
      up: { kind: "ollama", baseUrl: upstream.url, local: false, models: { llama: { id: "llama-up" } } },
      openai: { kind: "openai", baseUrl: openai.url, models: { gpt: { id: "gpt-4o-mini" } } },
    },
    routes: {
      "up-then-openai": { tiers: [["up/llama"], ["openai/gpt"]], ...fast },
      "up-whole": { tiers: [["up/llama"]], streamUpstream: false, ...fast },
      "redact-up": { tiers: [["up/llama"]], privacy: "redact", ...fast },
      "redact-up-whole": { tiers: [["up/llama"]], privacy: "redact", streamUpstream: false, ...fast },
    },
  });
  // Images are private by default; these say the test's image may leave the machine.
  client = new Ollama({ host: tandem.url, headers: { "x-tandem-sensitivity": "public" } });
});

after(async () => {
  await tandem?.close();
  await Promise.all([upstream?.close(), openai?.close()]);
});

async function post(path: string, body: object): Promise<Response> {
  return fetch(`${tandem.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-tandem-sensitivity": "public" },
    body: JSON.stringify(body),
  });
}

describe("Ollama client to an Ollama upstream: the body as sent, the answer as given", () => {
  it("/api/chat streamed: the body byte for byte but model and stream, the lines byte for byte but model", async () => {
    upstream.clear();
    const writes = chatLines(PARTS);
    upstream.script(() => ({ kind: "stream", contentType: NDJSON, writes }));
    const sent = { model: "up/llama", ...CHAT };
    const res = await post("/api/chat", sent);
    assert.equal(res.status, 200);
    const wire = await res.text();
    const [received] = upstream.requests;
    assert.equal(received?.path, "/api/chat");
    assert.equal(received?.raw, JSON.stringify({ ...sent, model: "llama-up", stream: true }));
    assert.equal(res.headers.get("x-tandem-warnings"), null);
    assert.equal(wire, writes.join("").replaceAll('"model":"llama-up"', '"model":"up/llama"'));
  });

  it("/api/chat: a body written as Python's ollama client writes it (spacing, 1.0) arrives byte for byte but model and stream", async () => {
    upstream.clear();
    upstream.script(() => ({ kind: "stream", contentType: NDJSON, writes: chatLines(PARTS) }));
    const sent =
      '{"model": "up/llama", "messages": [{"role": "user", "content": "Caf\\u00e9"}], "options": {"temperature": 1.0, "top_p": 1e-05}, "stream": true}';
    const res = await fetch(`${tandem.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-tandem-sensitivity": "public" },
      body: sent,
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(upstream.requests[0]?.raw, sent.replace('"up/llama"', '"llama-up"'));
  });

  it("/api/chat not streamed through the SDK (the upstream streams): thinking, counts and durations put together", async () => {
    upstream.clear();
    upstream.script(() => ({ kind: "stream", contentType: NDJSON, writes: chatLines(PARTS) }));
    const response = await client.chat({ model: "up/llama", ...(CHAT as object), stream: false } as Parameters<
      Ollama["chat"]
    >[0] & {
      stream: false;
    });
    const received = upstream.requests[0]?.body;
    for (const field of ["options", "format", "keep_alive", "think", "tools", "x_future_field"]) {
      assert.deepEqual(received?.[field], (CHAT as Record<string, unknown>)[field], field);
    }
    assert.deepEqual((received?.messages as Array<{ images?: unknown }>)[0]?.images, [PNG]);
    assert.equal(received?.stream, true);
    assert.equal(response.model, "up/llama");
    assert.equal(response.message.content, ANSWER);
    assert.equal(response.message.thinking, "Hmm.");
    // Every line's logprobs, in order (not only the last line's).
    assert.deepEqual((response as unknown as { logprobs: unknown[] }).logprobs, PARTS.map(logprob));
    assert.equal(response.done, true);
    for (const [key, value] of Object.entries(FINAL))
      assert.equal((response as unknown as Record<string, unknown>)[key], value, key);
    assert.equal(String(response.created_at), CREATED);
  });

  it("/api/chat not streamed, the upstream answers whole: stream false upstream, the answer as given but its model", async () => {
    upstream.clear();
    upstream.script(() => ({ kind: "json", body: wholeChat(ANSWER) }));
    const sent = { model: "up-whole", ...CHAT, stream: false };
    const res = await post("/api/chat", sent);
    assert.equal(upstream.requests[0]?.raw, JSON.stringify({ ...sent, model: "llama-up", stream: false }));
    assert.equal(await res.text(), JSON.stringify({ ...wholeChat(ANSWER), model: "up/llama" }));
  });

  it("/api/generate streamed through the SDK: template, context, options and the final context arrive", async () => {
    upstream.clear();
    upstream.script(() => ({ kind: "stream", contentType: NDJSON, writes: generateLines(PARTS) }));
    const request = {
      model: "up/llama",
      prompt: "Hi",
      template: "{{ .Prompt }}",
      context: [7, 8],
      system: "Be terse.",
      format: "json",
      options: { mirostat: 2, temperature: 0.1 },
      think: false,
      stream: true as const,
    };
    let text = "";
    let context: number[] | undefined;
    for await (const part of await client.generate(request)) {
      text += part.response;
      if (part.done) context = part.context;
    }
    const [received] = upstream.requests;
    assert.equal(received?.path, "/api/generate");
    assert.equal(received?.raw, JSON.stringify({ ...request, model: "llama-up", stream: true }));
    assert.equal(text, ANSWER);
    assert.deepEqual(context, [1, 2, 3]);
  });

  it("streamed: each line reaches the client before the upstream sends the next (nothing is buffered)", async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const [thinking, first, ...rest] = chatLines(["Hel", "lo."]);
    upstream.script(() => ({ kind: "stream", contentType: NDJSON, writes: [thinking!, first!, () => released, ...rest] }));
    let text = "";
    for await (const part of await client.chat({
      model: "up/llama",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
    })) {
      text += part.message.content;
      if (text === "Hel") release();
    }
    assert.equal(text, "Hello.");
  });
});

describe("failover from a native Ollama target", () => {
  it("before any byte, to a target of another kind, through the canonical path (streamed and not)", async () => {
    for (const stream of [false, true]) {
      upstream.clear();
      upstream.script(() => ({ kind: "json", status: 500, body: { error: "an error was encountered while running the model" } }));
      openai.script(() => ({ kind: "text", text: '{"a":"openai"}', usage: { input: 5, output: 3 } }));
      const request = { model: "up-then-openai", ...CHAT };
      let text = "";
      if (stream) {
        for await (const part of await client.chat({ ...(request as object), stream: true } as Parameters<Ollama["chat"]>[0] & {
          stream: true;
        }))
          text += part.message.content;
      } else {
        const response = await client.chat({ ...(request as object), stream: false } as Parameters<Ollama["chat"]>[0] & {
          stream: false;
        });
        text = response.message.content;
        assert.equal(response.model, "openai/gpt");
      }
      assert.equal(upstream.requests.length, 1, "the native target was tried");
      assert.equal(text, '{"a":"openai"}');
    }
  });
});

describe("a native Ollama stream that breaks", () => {
  it("continues on the next target in one well-formed NDJSON stream with one done line", async () => {
    const lines = chatLines(['{"a":"Hel', "lo wor"]);
    upstream.script(() => ({ kind: "stream", contentType: NDJSON, writes: lines.slice(0, -1), breakOff: true }));
    openai.script(() => ({ kind: "text", text: 'ld"}', usage: { input: 5, output: 3 } }));
    let text = "";
    let dones = 0;
    for await (const part of await client.chat({
      model: "up-then-openai",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
    })) {
      text += part.message.content;
      if (part.done) dones++;
    }
    assert.equal(text, '{"a":"Hello world"}');
    assert.equal(dones, 1);
  });
});

describe("privacy on the native Ollama path", () => {
  const EMAIL = "alice.liddell@example.org";
  it("redacts the raw body upstream and restores the answer, also a placeholder split across lines or in a whole answer", async () => {
    for (const [stream, route] of [
      [true, "redact-up"],
      [false, "redact-up"],
      [false, "redact-up-whole"],
    ] as const) {
      upstream.clear();
      let placeholder = "";
      upstream.script((request) => {
        placeholder = /\[[A-Z_]*EMAIL[A-Z_]*_1\]/.exec(request.raw)?.[0] ?? "";
        const half = Math.floor(placeholder.length / 2);
        // The upstream answers whole when tandem asks it to (the whole route): the placeholder is inside that one frame.
        if (request.raw.includes('"stream":false')) return { kind: "json", body: wholeChat(`{"a":"Mail ${placeholder} now."}`) };
        return {
          kind: "stream",
          contentType: NDJSON,
          writes: chatLines([`{"a":"Mail ${placeholder.slice(0, half)}`, `${placeholder.slice(half)} now."}`]),
        };
      });
      const sent = { ...CHAT, model: route, messages: [{ role: "user", content: `Write to ${EMAIL} please` }] };
      const client = new Ollama({ host: tandem.url });
      let text = "";
      if (stream) {
        for await (const part of await client.chat({ ...(sent as object), stream: true } as Parameters<Ollama["chat"]>[0] & {
          stream: true;
        }))
          text += part.message.content;
      } else {
        const response = await client.chat({ ...(sent as object), stream: false } as Parameters<Ollama["chat"]>[0] & {
          stream: false;
        });
        text = response.message.content;
      }
      const [received] = upstream.requests;
      assert.ok(received && placeholder !== "", `a placeholder upstream: ${received?.raw}`);
      assert.ok(!received.raw.includes(EMAIL), "the email never reached the upstream");
      assert.equal(received.raw.includes('"stream":false'), route === "redact-up-whole");
      assert.equal(text, `{"a":"Mail ${EMAIL} now."}`, `stream=${stream} route=${route}`);
    }
  });
});
