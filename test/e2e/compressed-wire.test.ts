/**
 * Content codings both ways. An upstream's answer sent `Content-Encoding: gzip`, `deflate` or `br`
 * (a server behind a compressing proxy) is decoded as it streams, whole or streamed, on every kind
 * of HTTP provider, and what tandem holds of it counts decoded bytes (a zip bomb stops at the
 * answer limits); a coding tandem cannot decode is named; a same-wire client gets a body that
 * matches its headers. A client's request body sent with one of those codings is read as the JSON
 * it holds (within server.bodyLimit, decoded); any other coding is a 415 in the client's dialect
 * naming it, with `Accept-Encoding` listing those tandem takes.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, beforeEach, describe, it } from "node:test";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import { anthropicFrame, anthropicMessageStart } from "../support/fake-anthropic-upstream.js";
import { postJson, type WireJson } from "../support/post-json.js";
import { type ScriptedCoding, type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let upstream: ScriptedUpstream;
let tandem: RunningTandem;

/** What an answer is read up to in this test (limits.maxAnswerBytes), and one SSE event or NDJSON line (maxLineBytes). */
const MAX_ANSWER = 256 * 1024;
const MAX_LINE = 64 * 1024;
const BODY_LIMIT = 256 * 1024;
const FILE_LIMIT = 64 * 1024;

before(async () => {
  upstream = await startScriptedUpstream();
  const once = { retry: { attempts: 1 }, timeouts: { firstTokenMs: 10_000, idleMs: 10_000 } };
  const models = { m: { id: "up" } };
  tandem = await startTandem(
    {
      server: { bodyLimit: BODY_LIMIT },
      files: { maxBytes: FILE_LIMIT },
      // Every failure here is on purpose: none opens the breaker for the tests after it.
      breaker: { failureThreshold: 1000 },
      limits: { maxAnswerBytes: MAX_ANSWER, maxLineBytes: MAX_LINE },
      providers: {
        oa: { kind: "openai", baseUrl: `${upstream.url}/v1`, local: false, apiKeys: ["env:K"], models },
        rs: { kind: "openai", responses: true, baseUrl: `${upstream.url}/v1`, local: false, apiKeys: ["env:K"], models },
        an: { kind: "anthropic", baseUrl: upstream.url, local: false, apiKeys: ["env:K"], models },
        ol: { kind: "ollama", baseUrl: upstream.url, models },
      },
      routes: {
        oa: { tiers: [["oa/m"]], ...once },
        "oa-whole": { tiers: [["oa/m"]], streamUpstream: false, ...once },
        rs: { tiers: [["rs/m"]], ...once },
        an: { tiers: [["an/m"]], ...once },
        "an-whole": { tiers: [["an/m"]], streamUpstream: false, ...once },
        ol: { tiers: [["ol/m"]], ...once },
        "ol-whole": { tiers: [["ol/m"]], streamUpstream: false, ...once },
      },
    },
    { env: { K: "sk-up" } },
  );
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

beforeEach(() => upstream.clear());

const SSE = "text/event-stream";
const TEXT = "Héllo, 世界! 👩‍👩‍👧";
const CODINGS = ["gzip", "deflate", "br"] as const;

function openaiChunks(text: string): string[] {
  const envelope = { id: "c1", object: "chat.completion.chunk", created: 1, model: "up" };
  const chunk = (choices: unknown[], usage: unknown = null) => `data: ${JSON.stringify({ ...envelope, choices, usage })}\n\n`;
  return [
    chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]),
    ...[...text].map((piece) => chunk([{ index: 0, delta: { content: piece }, finish_reason: null }])),
    chunk([{ index: 0, delta: {}, finish_reason: "stop" }]),
    chunk([], { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 }),
    "data: [DONE]\n\n",
  ];
}

const completion = {
  id: "c2",
  object: "chat.completion",
  created: 1,
  model: "up",
  choices: [{ index: 0, message: { role: "assistant", content: TEXT }, finish_reason: "stop" }],
  usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 },
};

function anthropicEvents(text: string): string[] {
  return [
    anthropicMessageStart("up", 3),
    anthropicFrame("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
    ...[...text].map((piece) => anthropicFrame("content_block_delta", { index: 0, delta: { type: "text_delta", text: piece } })),
    anthropicFrame("content_block_stop", { index: 0 }),
    anthropicFrame("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 5 } }),
    anthropicFrame("message_stop", {}),
  ];
}

function ollamaLines(text: string): string[] {
  return [
    ...[...text].map(
      (piece) => `${JSON.stringify({ model: "up", message: { role: "assistant", content: piece }, done: false })}\n`,
    ),
    `${JSON.stringify({ model: "up", message: { role: "assistant", content: "" }, done: true, done_reason: "stop", prompt_eval_count: 3, eval_count: 5 })}\n`,
  ];
}

function responsesEvents(text: string): string[] {
  const item = {
    id: "msg_up",
    type: "message",
    role: "assistant",
    status: "completed",
    content: [{ type: "output_text", text, annotations: [] }],
  };
  const response = {
    id: "resp_up",
    object: "response",
    created_at: 1,
    status: "completed",
    model: "up",
    output: [item],
    usage: { input_tokens: 3, output_tokens: 5, total_tokens: 8 },
  };
  const at = { item_id: "msg_up", output_index: 0, content_index: 0 };
  const events: Array<[string, Record<string, unknown>]> = [
    ["response.created", { response: { ...response, status: "in_progress", output: [] } }],
    ["response.output_item.added", { output_index: 0, item: { ...item, status: "in_progress", content: [] } }],
    ["response.content_part.added", { ...at, part: { type: "output_text", text: "", annotations: [] } }],
    ...[...text].map((piece): [string, Record<string, unknown>] => ["response.output_text.delta", { ...at, delta: piece }]),
    ["response.output_text.done", { ...at, text }],
    ["response.content_part.done", { ...at, part: item.content[0] as Record<string, unknown> }],
    ["response.output_item.done", { output_index: 0, item }],
    ["response.completed", { response }],
  ];
  return events.map(([type, data], i) => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: i, ...data })}\n\n`);
}

const chat = (model: string, stream = false) => ({ model, stream, messages: [{ role: "user", content: "hi" }] });
const messages = (model: string, stream = false) => ({
  model,
  stream,
  max_tokens: 100,
  messages: [{ role: "user", content: "hi" }],
});

describe("a compressed upstream answer", () => {
  for (const encoding of CODINGS) {
    it(`${encoding}: streamed and whole, on every kind of HTTP provider`, async () => {
      const coding: ScriptedCoding = { encoding };
      upstream.script((req) =>
        req.path.endsWith("/chat/completions")
          ? req.body.stream
            ? { kind: "stream", contentType: SSE, writes: openaiChunks(TEXT), ...coding }
            : { kind: "json", body: completion, ...coding }
          : req.path.endsWith("/responses")
            ? { kind: "stream", contentType: SSE, writes: responsesEvents(TEXT), ...coding }
            : req.path.endsWith("/v1/messages")
              ? req.body.stream
                ? { kind: "stream", contentType: SSE, writes: anthropicEvents(TEXT), ...coding }
                : {
                    kind: "json",
                    body: {
                      id: "msg",
                      type: "message",
                      role: "assistant",
                      model: "up",
                      content: [{ type: "text", text: TEXT }],
                      stop_reason: "end_turn",
                      usage: { input_tokens: 3, output_tokens: 5 },
                    },
                    ...coding,
                  }
              : req.body.stream === false
                ? {
                    kind: "json",
                    body: { model: "up", message: { role: "assistant", content: TEXT }, done: true, done_reason: "stop" },
                    ...coding,
                  }
                : { kind: "stream", contentType: "application/x-ndjson", writes: ollamaLines(TEXT), ...coding },
      );
      for (const model of ["oa", "oa-whole"]) {
        const res = await postJson(`${tandem.url}/v1/chat/completions`, chat(model));
        assert.equal(res.status, 200, `${model}: ${res.text}`);
        assert.equal(res.json.choices[0].message.content, TEXT, model);
      }
      for (const model of ["an", "an-whole"]) {
        const res = await postJson(`${tandem.url}/v1/messages`, messages(model));
        assert.equal(res.status, 200, `${model}: ${res.text}`);
        assert.equal(res.json.content[0].text, TEXT, model);
      }
      for (const model of ["ol", "ol-whole"]) {
        const res = await postJson(`${tandem.url}/api/chat`, { ...chat(model), stream: false });
        assert.equal(res.status, 200, `${model}: ${res.text}`);
        assert.equal(res.json.message.content, TEXT, model);
      }
      const responses = await postJson(`${tandem.url}/v1/responses`, { model: "rs", input: "hi" });
      assert.equal(responses.status, 200, responses.text);
      assert.equal(responses.json.output[0].content[0].text, TEXT);

      // Same wire, streamed: the client gets plain SSE under headers that say so.
      const res = await fetch(`${tandem.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "accept-encoding": "identity" },
        body: JSON.stringify(chat("oa", true)),
      });
      assert.equal(res.headers.get("content-encoding"), null);
      const text = await res.text();
      assert.ok(text.startsWith("data: {"), text.slice(0, 100));
      assert.ok(text.endsWith("data: [DONE]\n\n"));
    });
  }

  it("an error answer in a coding is read as the error it is", async () => {
    upstream.script(() => ({
      kind: "json",
      status: 400,
      body: {
        error: {
          message: "Unsupported parameter: 'foo'",
          type: "invalid_request_error",
          param: "foo",
          code: "unsupported_parameter",
        },
      },
      encoding: "gzip",
    }));
    const res = await postJson(`${tandem.url}/v1/chat/completions`, chat("oa"));
    assert.equal(res.status, 400, res.text);
    assert.match(res.json.error.message, /Unsupported parameter: 'foo'/);
  });

  it("a coding tandem cannot decode is a 502 naming it (an error status keeps its own meaning)", async () => {
    upstream.script(() => ({ kind: "stream", contentType: SSE, writes: openaiChunks("hi"), contentEncoding: "zstd" }));
    const res = await postJson(`${tandem.url}/v1/chat/completions`, chat("oa"));
    assert.equal(res.status, 502, res.text);
    assert.match(res.json.error.message, /answered with Content-Encoding zstd, which tandem cannot decode/);

    upstream.script(() => ({
      kind: "json",
      status: 429,
      body: { error: { message: "slow down" } },
      contentEncoding: "compress",
    }));
    const limited = await postJson(`${tandem.url}/v1/chat/completions`, chat("oa-whole"));
    assert.equal(limited.status, 429, limited.text);
  });

  it("a body that does not decode is the upstream's error, never its bytes as text", async () => {
    upstream.script(() => ({ kind: "json", body: completion, contentEncoding: "gzip" }));
    const res = await postJson(`${tandem.url}/v1/chat/completions`, chat("oa-whole"));
    assert.equal(res.status, 502, res.text);
    assert.match(res.json.error.message, /its gzip answer does not decode/);

    upstream.script(() => ({
      kind: "stream",
      contentType: "application/x-ndjson",
      writes: ollamaLines("hi"),
      contentEncoding: "deflate",
    }));
    const ollama = await postJson(`${tandem.url}/api/chat`, { ...chat("ol"), stream: false });
    assert.equal(ollama.status, 502, ollama.text);
    assert.match(ollama.json.error, /its deflate answer does not decode/);
    assert.ok(!ollama.text.includes("\\u001f") && !ollama.text.includes(String.fromCharCode(0x1f)), "no gzip bytes as text");
  });

  it("what tandem holds counts decoded bytes: a zip bomb stops at limits.maxAnswerBytes and limits.maxLineBytes", async () => {
    // 64 MiB of spaces in a JSON answer: about 64 KiB gzipped, far past the 256 KiB answer limit decoded.
    const padding = " ".repeat(64 * 1024 * 1024);
    upstream.script(() => ({ kind: "json", text: `{${padding}}`, body: null, encoding: "gzip" }));
    const whole = await postJson(`${tandem.url}/v1/chat/completions`, chat("oa-whole"));
    assert.equal(whole.status, 502, whole.text);
    assert.match(whole.json.error.message, /exceeded limits\.maxAnswerBytes \(262144 bytes\)/);

    // One SSE event that never ends: cut at the line limit.
    upstream.script(() => ({
      kind: "stream",
      contentType: SSE,
      writes: [`data: "${"x".repeat(32 * 1024 * 1024)}`],
      encoding: "gzip",
    }));
    const streamed = await postJson(`${tandem.url}/v1/chat/completions`, chat("oa"));
    assert.equal(streamed.status, 502, streamed.text);
    assert.match(streamed.json.error.message, /exceeded limits\.maxLineBytes \(65536 bytes\)/);
  });

  it("tandem asks a loopback upstream for no coding: compressing on this machine saves nothing", async () => {
    upstream.script(() => ({ kind: "json", body: completion }));
    await postJson(`${tandem.url}/v1/chat/completions`, chat("oa-whole"));
    assert.equal(upstream.requests[0]?.headers["accept-encoding"], "identity");
  });
});

/** POSTs raw bytes with a content coding; the answer's status, headers and JSON. */
function postCoded(
  path: string,
  body: Buffer,
  encoding: string,
  contentType = "application/json",
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; json: WireJson }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${tandem.url}${path}`,
      {
        method: "POST",
        headers: { "content-type": contentType, "content-encoding": encoding, "content-length": body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = text;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("a client's compressed request body", () => {
  const compress = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync } as const;

  for (const encoding of CODINGS) {
    it(`${encoding}: read as the JSON it holds, on every dialect; the upstream gets the JSON`, async () => {
      upstream.script((req) =>
        req.path.endsWith("/chat/completions")
          ? { kind: "json", body: completion }
          : req.path.endsWith("/v1/messages")
            ? {
                kind: "json",
                body: {
                  id: "msg",
                  type: "message",
                  role: "assistant",
                  model: "up",
                  content: [{ type: "text", text: TEXT }],
                  stop_reason: "end_turn",
                  usage: { input_tokens: 3, output_tokens: 5 },
                },
              }
            : {
                kind: "json",
                body: { model: "up", message: { role: "assistant", content: TEXT }, done: true, done_reason: "stop" },
              },
      );
      const text = `{"model":"oa-whole","messages":[{"role":"user","content":"é 1.0 12345678901234567890"}]}`;
      const openai = await postCoded("/v1/chat/completions", compress[encoding](Buffer.from(text)), encoding);
      assert.equal(openai.status, 200, JSON.stringify(openai.json));
      assert.equal(openai.json.choices[0].message.content, TEXT);
      // Same wire: the client's own text, its model changed.
      assert.equal(upstream.requests[0]?.raw, text.replace('"oa-whole"', '"up"').replace("}]}", '}],"stream":false}'));
      assert.equal(upstream.requests[0]?.headers["content-encoding"], undefined);

      const anthropic = await postCoded(
        "/v1/messages",
        compress[encoding](Buffer.from(JSON.stringify(messages("an-whole")))),
        encoding,
      );
      assert.equal(anthropic.status, 200, JSON.stringify(anthropic.json));
      const ollama = await postCoded(
        "/api/chat",
        compress[encoding](Buffer.from(JSON.stringify({ ...chat("ol-whole"), stream: false }))),
        encoding,
      );
      assert.equal(ollama.status, 200, JSON.stringify(ollama.json));
    });
  }

  it("a coding tandem does not decode is a 415 in the client's dialect, naming it, with Accept-Encoding", async () => {
    const body = Buffer.from(JSON.stringify(chat("oa-whole")));
    const openai = await postCoded("/v1/chat/completions", body, "zstd");
    assert.equal(openai.status, 415);
    assert.equal(openai.headers["accept-encoding"], "gzip, deflate, br");
    assert.equal(openai.json.error.code, "unsupported_content_encoding");
    assert.match(openai.json.error.message, /Unsupported Content-Encoding 'zstd'/);

    const anthropic = await postCoded("/v1/messages", body, "compress");
    assert.equal(anthropic.status, 415);
    assert.equal(anthropic.json.type, "error");
    assert.match(anthropic.json.error.message, /Unsupported Content-Encoding 'compress'/);

    const ollama = await postCoded("/api/chat", body, "zstd");
    assert.equal(ollama.status, 415);
    assert.match(ollama.json.error, /Unsupported Content-Encoding 'zstd'/);
    assert.equal(upstream.requests.length, 0);

    // identity is no coding at all.
    upstream.script(() => ({ kind: "json", body: completion }));
    assert.equal((await postCoded("/v1/chat/completions", body, "identity")).status, 200);
  });

  it("a chain of more codings than tandem decodes is a 415 saying the chain is too long", async () => {
    let body = Buffer.from(JSON.stringify(chat("oa-whole")));
    for (let i = 0; i < 4; i++) body = gzipSync(body);
    const refused = await postCoded("/v1/chat/completions", body, "gzip, gzip, gzip, gzip");
    assert.equal(refused.status, 415);
    assert.equal(refused.json.error.code, "unsupported_content_encoding");
    assert.match(refused.json.error.message, /4 codings applied one over another; tandem decodes at most 3/);
    // Not told to use the codings it just used.
    assert.doesNotMatch(refused.json.error.message, /encoded with one of/);
    assert.equal(upstream.requests.length, 0);
  });

  it("a file upload is decoded as a JSON body is: read, refused for a coding tandem does not decode, counted decoded", async () => {
    const form = (content: string) =>
      Buffer.from(
        `--XB\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nuser_data\r\n--XB\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n${content}\r\n--XB--\r\n`,
      );
    const multipart = "multipart/form-data; boundary=XB";
    for (const encoding of CODINGS) {
      const created = await postCoded("/v1/files", compress[encoding](form("hello")), encoding, multipart);
      assert.equal(created.status, 200, `${encoding}: ${JSON.stringify(created.json)}`);
      assert.equal(created.json.bytes, 5);
    }
    const zstd = await postCoded("/v1/files", gzipSync(form("hello")), "zstd", multipart);
    assert.equal(zstd.status, 415, JSON.stringify(zstd.json));
    assert.equal(zstd.json.error.code, "unsupported_content_encoding");
    assert.match(zstd.json.error.message, /Unsupported Content-Encoding 'zstd'/);
    const broken = await postCoded("/v1/files", form("hello"), "gzip", multipart);
    assert.equal(broken.status, 400);
    assert.match(broken.json.error.message, /its gzip content coding does not decode/);
    // A small body that inflates far past files.maxBytes: a 413, without inflating all of it.
    const bomb = gzipSync(form(" ".repeat(64 * 1024 * 1024)));
    const large = await postCoded("/v1/files", bomb, "gzip", multipart);
    assert.equal(large.status, 413, JSON.stringify(large.json));
    assert.match(large.json.error.message, /files\.maxBytes/);
  });

  it("a body that does not decode is a 400 naming the coding, and one that inflates past server.bodyLimit a 413", async () => {
    const broken = await postCoded("/v1/chat/completions", Buffer.from(JSON.stringify(chat("oa-whole"))), "gzip");
    assert.equal(broken.status, 400);
    assert.match(broken.json.error.message, /its gzip content coding does not decode/);

    const bomb = gzipSync(Buffer.from(`{"model":"oa-whole","messages":[],"x":"${" ".repeat(64 * 1024 * 1024)}"}`));
    assert.ok(bomb.length < BODY_LIMIT);
    const large = await postCoded("/v1/chat/completions", bomb, "gzip");
    assert.equal(large.status, 413);
    assert.equal(upstream.requests.length, 0);
  });
});
