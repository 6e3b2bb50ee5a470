/**
 * The byte-exact same-wire body under retries: a body written as a Python or Rust SDK writes it
 * (spaces after colons, `1.0`, `1e-05`, `ensure_ascii` escapes, a large integer) reaches the upstream
 * byte for byte but its model and stream fields, on each of the three wires, streamed and not, and a
 * retry after a 429 or a 5xx resends exactly the same bytes.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { anthropicFrame, anthropicMessageStart } from "../support/fake-anthropic-upstream.js";
import { type ScriptedReply, type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let upstream: ScriptedUpstream;
let tandem: RunningTandem;

before(async () => {
  upstream = await startScriptedUpstream();
  const retrying = { retry: { attempts: 3, baseMs: 0, maxMs: 0 }, timeouts: { firstTokenMs: 5000, idleMs: 5000 } };
  tandem = await startTandem(
    {
      providers: {
        oa: { kind: "openai", baseUrl: `${upstream.url}/v1`, local: false, apiKeys: ["env:K"], models: { m: { id: "gpt-up" } } },
        an: { kind: "anthropic", baseUrl: upstream.url, local: false, apiKeys: ["env:K"], models: { m: { id: "claude-up" } } },
        ol: { kind: "ollama", baseUrl: upstream.url, models: { m: { id: "llama-up" } } },
      },
      routes: {
        oa: { tiers: [["oa/m"]], ...retrying },
        "oa-whole": { tiers: [["oa/m"]], streamUpstream: false, ...retrying },
        an: { tiers: [["an/m"]], ...retrying },
        ol: { tiers: [["ol/m"]], ...retrying },
        "ol-whole": { tiers: [["ol/m"]], streamUpstream: false, ...retrying },
      },
    },
    { env: { K: "sk-up" } },
  );
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

const SSE = "text/event-stream";

function openaiStream(): ScriptedReply {
  const envelope = { id: "c1", object: "chat.completion.chunk", created: 1, model: "gpt-up" };
  const chunk = (choices: unknown[], usage: unknown = null) => `data: ${JSON.stringify({ ...envelope, choices, usage })}\n\n`;
  return {
    kind: "stream",
    contentType: SSE,
    writes: [
      chunk([{ index: 0, delta: { role: "assistant", content: "Fine." }, finish_reason: null }]),
      chunk([{ index: 0, delta: {}, finish_reason: "stop" }]),
      chunk([], { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 }),
      "data: [DONE]\n\n",
    ],
  };
}

function openaiWhole(): ScriptedReply {
  return {
    kind: "json",
    body: {
      id: "c2",
      object: "chat.completion",
      created: 1,
      model: "gpt-up",
      choices: [{ index: 0, message: { role: "assistant", content: "Fine." }, finish_reason: "stop" }],
      usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
    },
  };
}

function anthropicStream(): ScriptedReply {
  return {
    kind: "stream",
    contentType: SSE,
    writes: [
      anthropicMessageStart("claude-up", 3),
      anthropicFrame("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
      anthropicFrame("content_block_delta", { index: 0, delta: { type: "text_delta", text: "Fine." } }),
      anthropicFrame("content_block_stop", { index: 0 }),
      anthropicFrame("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 1 } }),
      anthropicFrame("message_stop", {}),
    ],
  };
}

const OLLAMA_DONE = { done: true, done_reason: "stop", prompt_eval_count: 3, eval_count: 1 };

function ollamaStream(): ScriptedReply {
  const base = { model: "llama-up", created_at: "2026-12-05T00:00:00Z" };
  return {
    kind: "stream",
    contentType: "application/x-ndjson",
    writes: [
      `${JSON.stringify({ ...base, message: { role: "assistant", content: "Fine." }, done: false })}\n`,
      `${JSON.stringify({ ...base, message: { role: "assistant", content: "" }, ...OLLAMA_DONE })}\n`,
    ],
  };
}

function ollamaWhole(): ScriptedReply {
  return {
    kind: "json",
    body: {
      model: "llama-up",
      created_at: "2026-12-05T00:00:00Z",
      message: { role: "assistant", content: "Fine." },
      ...OLLAMA_DONE,
    },
  };
}

/** The upstream's error for a failed first attempt, in each wire's shape. */
function failure(status: number, wire: "openai" | "anthropic" | "ollama"): ScriptedReply {
  if (wire === "anthropic") {
    const type = status === 429 ? "rate_limit_error" : "api_error";
    return { kind: "json", status, body: { type: "error", error: { type, message: "try again" } } };
  }
  if (wire === "ollama") return { kind: "json", status, body: { error: "try again" } };
  return { kind: "json", status, body: { error: { message: "try again", type: "server_error", param: null, code: null } } };
}

interface Case {
  name: string;
  wire: "openai" | "anthropic" | "ollama";
  path: string;
  headers?: Record<string, string>;
  /** The body as a Python or Rust SDK writes it. */
  sent: string;
  answer: () => ScriptedReply;
  /** The body the upstream must receive, every byte. */
  expected: string;
}

// Python's json.dumps (ensure_ascii, ", " and ": "), as the openai and anthropic Python SDKs send.
const PY_OPENAI =
  '{"messages": [{"role": "user", "content": "Caf\\u00e9 \\u2028 \\ud83d\\ude00 \\"q\\""}], "model": "oa", "temperature": 1.0, ' +
  '"top_p": 1e-05, "seed": 42, "x_future": {"model": "nested stays", "n": 12345678901234567890}';
// serde_json (Rust): compact, raw UTF-8, integers as written.
const RUST_OLLAMA =
  '{"model":"ol","messages":[{"role":"user","content":"Café 😀 \\"q\\""}],"options":{"temperature":1.0,"top_p":1e-5,"num_ctx":8192},"keep_alive":-1';

const CASES: Case[] = [
  {
    name: "OpenAI chat, streamed",
    wire: "openai",
    path: "/v1/chat/completions",
    sent: `${PY_OPENAI}, "stream": true}`,
    answer: openaiStream,
    expected: `${PY_OPENAI.replace('"model": "oa"', '"model": "gpt-up"')}, "stream": true,"stream_options":{"include_usage":true}}`,
  },
  {
    name: "OpenAI chat, not streamed, the upstream answers whole",
    wire: "openai",
    path: "/v1/chat/completions",
    sent: `${PY_OPENAI.replace('"model": "oa"', '"model": "oa-whole"')}}`,
    answer: openaiWhole,
    expected: `${PY_OPENAI.replace('"model": "oa"', '"model": "gpt-up"')},"stream":false}`,
  },
  {
    name: "Anthropic messages, streamed",
    wire: "anthropic",
    path: "/v1/messages",
    headers: { "anthropic-version": "2023-06-01", "x-api-key": "unused" },
    sent: '{"max_tokens": 64, "messages": [{"role": "user", "content": "Caf\\u00e9 \\ud83d\\ude00"}], "model": "an", "temperature": 1.0, "stream": true}',
    answer: anthropicStream,
    expected:
      '{"max_tokens": 64, "messages": [{"role": "user", "content": "Caf\\u00e9 \\ud83d\\ude00"}], "model": "claude-up", "temperature": 1.0, "stream": true}',
  },
  {
    name: "Anthropic messages, not streamed (the upstream streams)",
    wire: "anthropic",
    path: "/v1/messages",
    headers: { "anthropic-version": "2023-06-01", "x-api-key": "unused" },
    sent: '{"max_tokens": 64, "messages": [{"role": "user", "content": "Caf\\u00e9"}], "model": "an", "top_p": 1e-05}',
    answer: anthropicStream,
    expected:
      '{"max_tokens": 64, "messages": [{"role": "user", "content": "Caf\\u00e9"}], "model": "claude-up", "top_p": 1e-05,"stream":true}',
  },
  {
    name: "Ollama chat, streamed",
    wire: "ollama",
    path: "/api/chat",
    headers: { "x-tandem-sensitivity": "public" },
    sent: `${RUST_OLLAMA}}`,
    answer: ollamaStream,
    expected: `${RUST_OLLAMA.replace('"model":"ol"', '"model":"llama-up"')},"stream":true}`,
  },
  {
    name: "Ollama chat, not streamed, the upstream answers whole",
    wire: "ollama",
    path: "/api/chat",
    headers: { "x-tandem-sensitivity": "public" },
    sent: `${RUST_OLLAMA.replace('"model":"ol"', '"model":"ol-whole"')},"stream":false}`,
    answer: ollamaWhole,
    expected: `${RUST_OLLAMA.replace('"model":"ol"', '"model":"llama-up"')},"stream":false}`,
  },
];

async function send(c: Case): Promise<string> {
  const res = await fetch(`${tandem.url}${c.path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...c.headers },
    body: c.sent,
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.match(text, /Fine\./);
  return text;
}

describe("a same-wire body written by another language's SDK, byte for byte", () => {
  for (const c of CASES) {
    it(`${c.name}: arrives as written but its model and stream fields`, async () => {
      upstream.clear();
      upstream.script(c.answer);
      await send(c);
      assert.equal(upstream.requests.length, 1);
      assert.equal(upstream.requests[0]?.raw, c.expected);
    });

    for (const status of [429, 503]) {
      it(`${c.name}: a retry after a ${status} resends exactly the same bytes`, async () => {
        upstream.clear();
        let n = 0;
        upstream.script(() => (n++ === 0 ? failure(status, c.wire) : c.answer()));
        await send(c);
        assert.equal(upstream.requests.length, 2);
        assert.equal(upstream.requests[0]?.raw, c.expected);
        assert.equal(upstream.requests[1]?.raw, c.expected);
      });
    }
  }
});
