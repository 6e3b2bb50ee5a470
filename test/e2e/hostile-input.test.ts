/**
 * Throws malformed and hostile bodies at every POST endpoint of a real server and checks that each gets
 * a 4xx in its own dialect's error shape (never a 500, a hang or a crash), and that the server still
 * answers properly afterwards.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

type Dialect = "openai" | "anthropic" | "ollama";
const MODEL = "up/gpt-4o-mini";

const valid = {
  chat: { model: MODEL, messages: [{ role: "user", content: "hi" }] },
  messages: { model: MODEL, max_tokens: 10, messages: [{ role: "user", content: "hi" }] },
};

const ENDPOINTS: { path: string; dialect: Dialect; valid: Record<string, unknown>; wrong: Record<string, unknown[]> }[] = [
  {
    path: "/v1/chat/completions",
    dialect: "openai",
    valid: valid.chat,
    wrong: {
      model: [42, null, [], {}],
      messages: [
        "hi",
        5,
        {},
        [{}],
        [{ role: "wizard", content: "x" }],
        [{ role: "user", content: 7 }],
        [{ role: "user", content: [{ type: "nope" }] }],
      ],
      temperature: ["hot", 9, -1],
      max_tokens: ["many", -5, 1.5],
      n: [0, "one", 1.5],
      tools: ["all", [{ type: "function" }], [{ type: "function", function: { name: 5 } }]],
      stream: ["yes", 1],
    },
  },
  {
    path: "/v1/responses",
    dialect: "openai",
    valid: { model: MODEL, input: "hi" },
    wrong: {
      model: [42, null, []],
      input: [5, {}, [5], [{}], [{ role: "wizard", content: "x" }], [{ role: "user", content: 7 }], [{ type: "function_call" }]],
      instructions: [5, []],
      previous_response_id: [5, "", "resp_unknown"],
      conversation: [5, {}, "conv_unknown"],
      tools: ["all", [{ type: "function" }], [{ type: "function", name: 5 }], [5]],
      tool_choice: [5, { type: "function" }, { type: "web_search_preview" }],
      text: ["json", { format: { type: "yaml" } }],
      max_output_tokens: ["many", -5, 1.5, 8],
      temperature: ["hot", 9],
      background: ["yes", 5],
      metadata: ["x", { a: 5 }],
      stream: ["yes", 1],
    },
  },
  {
    path: "/v1/completions",
    dialect: "openai",
    valid: { model: MODEL, prompt: "Once upon a time" },
    wrong: { model: [1, null], prompt: [5, { a: 1 }, [[1.5, 2]], [["a"]]], max_tokens: ["x", -1] },
  },
  {
    path: "/v1/embeddings",
    dialect: "openai",
    valid: { model: MODEL, input: "hello" },
    wrong: { model: [1, null], input: [5, null, { a: 1 }, [{}]], encoding_format: ["hex", 3] },
  },
  {
    path: "/v1/messages",
    dialect: "anthropic",
    valid: valid.messages,
    wrong: {
      model: [1, null],
      max_tokens: ["10", -1, null],
      messages: [
        "hi",
        [{ role: "system", content: [{ type: "image" }] }],
        [{ role: "user", content: [{ type: "image" }] }],
        [{ role: "user" }],
      ],
      system: [5, [{ type: "text" }]],
      temperature: ["warm", 3],
      tools: [[{ name: 5 }], "x"],
    },
  },
  {
    path: "/v1/messages/count_tokens",
    dialect: "anthropic",
    valid: { model: MODEL, messages: [{ role: "user", content: "hi" }] },
    wrong: { model: [1, null], messages: ["hi", [{ role: "user", content: 4 }]] },
  },
  {
    path: "/api/chat",
    dialect: "ollama",
    valid: { ...valid.chat, stream: false },
    wrong: {
      model: [1, null, ""],
      messages: ["hi", [{ role: "user", content: 5 }], [{ role: "user", content: "x", images: [5] }]],
      options: ["fast", { temperature: "hot" }, { num_predict: "x" }],
      stream: ["no"],
    },
  },
  {
    path: "/api/generate",
    dialect: "ollama",
    valid: { model: MODEL, prompt: "Once upon a time", stream: false },
    wrong: { model: [1, null, ""], prompt: [5, {}], options: [{ temperature: "hot" }] },
  },
  {
    path: "/api/embed",
    dialect: "ollama",
    valid: { model: MODEL, input: "hello" },
    // A null input is Ollama's load request, as a missing one is (see optional below).
    wrong: { model: [1, null, ""], input: [5, [1, 2], {}] },
  },
  {
    path: "/api/embeddings",
    dialect: "ollama",
    valid: { model: MODEL, prompt: "hello" },
    wrong: { model: [1, null], prompt: [5, {}] },
  },
  { path: "/api/show", dialect: "ollama", valid: { model: MODEL }, wrong: { model: [1, [], {}] } },
];

function assertShape(dialect: Dialect, body: unknown, context: string): void {
  const b = body as Record<string, unknown>;
  if (dialect === "openai") {
    const e = b.error as Record<string, unknown> | undefined;
    assert.equal(typeof e?.message, "string", `${context}: OpenAI error.message`);
    assert.equal(typeof e?.type, "string", `${context}: OpenAI error.type`);
    assert.ok("param" in (e ?? {}) && "code" in (e ?? {}), `${context}: OpenAI error.param/code present`);
  } else if (dialect === "anthropic") {
    assert.equal(b.type, "error", `${context}: Anthropic type`);
    const e = b.error as Record<string, unknown> | undefined;
    assert.equal(typeof e?.type, "string", `${context}: Anthropic error.type`);
    assert.equal(typeof e?.message, "string", `${context}: Anthropic error.message`);
  } else {
    assert.equal(typeof b.error, "string", `${context}: Ollama error`);
  }
}

let upstream: FakeUpstream;
let tandem: RunningTandem;

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  tandem = await startTandem({
    server: { bodyLimit: 64 * 1024 },
    providers: { up: { kind: "openai", baseUrl: upstream.url, models: ["gpt-4o-mini"] } },
  });
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

async function send(path: string, body: string, contentType = "application/json"): Promise<{ status: number; body: unknown }> {
  const res = await fetch(tandem.url + path, {
    method: "POST",
    headers: { "content-type": contentType },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed };
}

describe("hostile input", () => {
  for (const endpoint of ENDPOINTS) {
    it(`${endpoint.path}: every malformed body gets a 4xx in the ${endpoint.dialect} error shape`, async () => {
      const cases: { label: string; body: string; contentType?: string; field?: string }[] = [];
      // Not JSON at all.
      for (const text of fc.sample(fc.string({ minLength: 1, maxLength: 40 }), { numRuns: 12, seed: 7 })) {
        const body = `{${text}`;
        cases.push({ label: `not json ${JSON.stringify(body)}`, body });
      }
      // JSON, but not an object of the right shape.
      for (const value of fc.sample(fc.jsonValue({ maxDepth: 3 }), { numRuns: 12, seed: 11 })) {
        cases.push({ label: `json ${JSON.stringify(value).slice(0, 60)}`, body: JSON.stringify(value) });
      }
      // One field of a valid body replaced by a wrong value; the error must name the field.
      for (const [field, values] of Object.entries(endpoint.wrong)) {
        for (const value of values) {
          cases.push({
            label: `${field}=${JSON.stringify(value)}`,
            body: JSON.stringify({ ...endpoint.valid, [field]: value }),
            field,
          });
        }
      }
      // A required field missing. (Ollama answers a request with no messages, prompt or input by loading the model.)
      const optional = endpoint.dialect === "ollama" ? ["stream", "messages", "prompt", "input"] : ["stream"];
      for (const field of Object.keys(endpoint.valid).filter((f) => !optional.includes(f))) {
        const { [field]: _dropped, ...rest } = endpoint.valid;
        cases.push({ label: `without ${field}`, body: JSON.stringify(rest) });
      }
      // Hostile: prototype pollution, deep nesting, oversized, empty, NUL bytes, lone surrogates, wrong content type.
      cases.push({ label: "__proto__", body: `{"__proto__":{"polluted":true},"model":"${MODEL}"}` });
      cases.push({ label: "constructor.prototype", body: `{"constructor":{"prototype":{"polluted":true}}}` });
      cases.push({ label: "deep nesting", body: `${"[".repeat(5000)}${"]".repeat(5000)}` });
      const deepField = "messages" in endpoint.valid ? "messages" : "model";
      cases.push({ label: `deep ${deepField}`, body: JSON.stringify({ ...endpoint.valid, [deepField]: nest(2000) }) });
      cases.push({ label: "oversized", body: JSON.stringify({ ...endpoint.valid, junk: "x".repeat(100 * 1024) }) });
      cases.push({ label: "empty", body: "" });
      cases.push({ label: "nul bytes", body: `{"model":"\u0000","messages":"\u0000"}` });
      cases.push({ label: "lone surrogate", body: `{"model":"\\ud800","messages":[{"role":"user","content":"\\udfff"}]}` });
      cases.push({ label: "xml", body: "<xml/>", contentType: "application/xml" });
      cases.push({ label: "unknown model", body: JSON.stringify({ ...endpoint.valid, model: "nope/nothing" }) });

      for (const c of cases) {
        const res = await send(endpoint.path, c.body, c.contentType);
        const context = `${endpoint.path} ${c.label} -> ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
        assert.ok(res.status >= 400 && res.status < 500, context);
        assertShape(endpoint.dialect, res.body, context);
        if (c.field) {
          const message = JSON.stringify(res.body);
          assert.ok(message.includes(c.field), `${context}: the error should name '${c.field}'`);
        }
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined, "Object.prototype was polluted");
    });
  }

  it("quotes a megabyte-long unknown model name in a short error", async () => {
    const res = await send("/v1/chat/completions", JSON.stringify({ ...valid.chat, model: "x".repeat(60 * 1024) }));
    assert.equal(res.status, 404);
    assertShape("openai", res.body, JSON.stringify(res.body).slice(0, 200));
    assert.ok(JSON.stringify(res.body).length < 20 * 1024, `a ${JSON.stringify(res.body).length}-character error`);
  });

  it("still answers properly after all that", async () => {
    const health = await fetch(`${tandem.url}/health`);
    assert.equal(health.status, 200);
    const res = await send("/v1/chat/completions", JSON.stringify(valid.chat));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    // JSON sent the way curl -d and fetch(string) label it is refused: a web page can send those
    // content types to any address without a CORS preflight (test/e2e/hostile-page.test.ts).
    for (const contentType of ["application/x-www-form-urlencoded", "text/plain;charset=UTF-8"]) {
      const other = await send("/api/chat", JSON.stringify({ ...valid.chat, stream: false }), contentType);
      assert.equal(other.status, 415, `${contentType}: ${JSON.stringify(other.body)}`);
    }
  });
});

function nest(depth: number): unknown {
  let value: unknown = "x";
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}
