/**
 * Hard limits: an upstream that answers without end (a stream line that never ends, a whole answer,
 * an error body, an NDJSON line, an endless stream of small events) gets its read stopped at the
 * configured limit, the connection dropped, and the client a 502 in its own dialect (Anthropic's 500) naming the
 * setting; a client that stalls mid-body gets 408 in its dialect; the body limit still gives 413.
 * Small limits keep it quick; nothing here measures memory or time.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const MAX_ANSWER = 256 * 1024;
const MAX_LINE = 64 * 1024;
/** What the fake would send if nobody stopped it. */
const ENDLESS = 200 * 1024 * 1024;

type Mode = "sse-line" | "sse-many" | "sse-heavy" | "whole" | "error" | "ndjson-line" | "ok" | "slow";

interface Served {
  mode: Mode;
  sent: number;
  /** The connection closed before the fake had written everything. */
  cutShort: boolean;
}

/** An upstream that speaks just enough of OpenAI's and Ollama's chat APIs to answer without end. */
async function startEndlessUpstream(): Promise<{ url: string; served: Served[]; close(): Promise<void> }> {
  const served: Served[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d: string) => {
      body += d;
    });
    req.on("end", () => {
      const model = (JSON.parse(body || "{}") as { model?: string }).model ?? "ok";
      const mode = model as Mode;
      const record: Served = { mode, sent: 0, cutShort: false };
      served.push(record);
      void answer(mode, res, record);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

async function answer(mode: Mode, res: ServerResponse, record: Served): Promise<void> {
  switch (mode) {
    case "ok":
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(`${chunk({ role: "assistant", content: "fine" })}${chunk({}, "stop")}data: [DONE]\n\n`);
      return;
    case "slow":
      // Longer than the body timeout in the test that uses it: a slow answer is never cut for it.
      await new Promise((r) => setTimeout(r, 600));
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(`${chunk({ role: "assistant", content: "slow" })}${chunk({}, "stop")}data: [DONE]\n\n`);
      return;
    case "sse-line":
      res.writeHead(200, { "content-type": "text/event-stream" });
      return pump(res, record, `data: {"choices":[{"index":0,"delta":{"content":"`, "x");
    case "sse-many":
      res.writeHead(200, { "content-type": "text/event-stream" });
      // Varied text, so no quality check stops it before the size limit does.
      return pump(res, record, chunk({ role: "assistant", content: "" }), (i) => chunk({ content: prose(i, 1000) }));
    case "sse-heavy": {
      // A word of text per chunk and a few KB of everything else (logprobs with top_logprobs, say).
      res.writeHead(200, { "content-type": "text/event-stream" });
      const logprobs = { content: [{ token: "w", logprob: -1, bytes: [119], top_logprobs: [{ pad: "p".repeat(4000) }] }] };
      const heavy = (i: number) =>
        `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { content: `${prose(i, 6)} ` }, logprobs, finish_reason: null }] })}\n\n`;
      return pump(res, record, chunk({ role: "assistant", content: "" }), heavy);
    }
    case "whole":
      res.writeHead(200, { "content-type": "application/json" });
      return pump(
        res,
        record,
        `{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"`,
        "z",
      );
    case "error":
      res.writeHead(500, { "content-type": "application/json" });
      return pump(res, record, `{"error":{"message":"`, "e");
    case "ndjson-line":
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      return pump(res, record, `{"model":"m","message":{"role":"assistant","content":"`, "n");
  }
}

/** Pseudo-random lowercase words, different for each `seed`. */
function prose(seed: number, length: number): string {
  let x = seed * 2654435761 + 1;
  let out = "";
  while (out.length < length) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out += (x >>> 8).toString(36) + " ";
  }
  return out.slice(0, length);
}

/** Writes `head`, then `unit` (or a piece per call) repeated up to ENDLESS bytes, as fast as the reader takes it. */
async function pump(res: ServerResponse, record: Served, head: string, unit: string | ((i: number) => string)): Promise<void> {
  const fixed = typeof unit === "string" ? unit.repeat(Math.ceil((64 * 1024) / unit.length)) : undefined;
  res.write(head);
  let closed = false;
  let wake: (() => void) | undefined;
  res.once("close", () => {
    closed = true;
    wake?.();
  });
  res.on("drain", () => wake?.());
  for (let i = 0; !closed && record.sent < ENDLESS; i++) {
    const piece = fixed ?? (unit as (i: number) => string)(i);
    record.sent += piece.length;
    if (!res.write(piece)) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  }
  record.cutShort = closed && record.sent < ENDLESS;
  if (!closed) res.end();
}

async function post(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

/** The error message in each dialect's shape, checking the shape on the way. */
function errorMessage(dialect: "openai" | "anthropic" | "ollama", json: unknown): string {
  if (dialect === "openai") {
    const error = (json as { error: { message: string; type: string } }).error;
    assert.equal(typeof error.type, "string");
    return error.message;
  }
  if (dialect === "anthropic") {
    const body = json as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, "error");
    assert.equal(typeof body.error.type, "string");
    return body.error.message;
  }
  const error = (json as { error: unknown }).error;
  assert.equal(typeof error, "string");
  return error as string;
}

const DIALECTS = [
  {
    dialect: "openai" as const,
    path: "/v1/chat/completions",
    body: (model: string) => ({ model, messages: [{ role: "user", content: "hi" }] }),
  },
  {
    dialect: "anthropic" as const,
    path: "/v1/messages",
    body: (model: string) => ({ model, max_tokens: 100, messages: [{ role: "user", content: "hi" }] }),
  },
  {
    dialect: "ollama" as const,
    path: "/api/chat",
    body: (model: string) => ({ model, stream: false, messages: [{ role: "user", content: "hi" }] }),
  },
];

describe("answer limits", () => {
  let upstream: Awaited<ReturnType<typeof startEndlessUpstream>>;
  let tandem: RunningTandem;

  before(async () => {
    upstream = await startEndlessUpstream();
    tandem = await startTandem({
      limits: { maxAnswerBytes: MAX_ANSWER, maxLineBytes: MAX_LINE },
      providers: {
        up: {
          kind: "openai",
          baseUrl: `${upstream.url}/v1`,
          models: ["sse-line", "sse-many", "sse-heavy", "whole", "error", "ok"],
        },
        ol: { kind: "ollama", baseUrl: upstream.url, models: ["ndjson-line"] },
      },
      routes: {
        // Asks the upstream for a whole JSON answer when the client does not stream.
        whole: { tiers: ["up/whole"], streamUpstream: false, retry: { attempts: 1 } },
        errors: { tiers: ["up/error"], retry: { attempts: 1 } },
      },
    });
  });

  after(async () => {
    await tandem?.close();
    await upstream?.close();
  });

  const cases: { name: string; model: string; mode: Mode; setting: RegExp; target: string }[] = [
    {
      name: "an SSE line without a newline",
      model: "up/sse-line",
      mode: "sse-line",
      setting: /limits\.maxLineBytes \(65536 bytes\)/,
      target: "up/sse-line",
    },
    {
      name: "a whole JSON answer",
      model: "whole",
      mode: "whole",
      setting: /limits\.maxAnswerBytes \(262144 bytes\)/,
      target: "up/whole",
    },
    {
      name: "an endless stream of small events",
      model: "up/sse-many",
      mode: "sse-many",
      setting: /limits\.maxAnswerBytes \(262144 bytes\)/,
      target: "up/sse-many",
    },
    {
      name: "an NDJSON line without a newline",
      model: "ol/ndjson-line",
      mode: "ndjson-line",
      setting: /limits\.maxLineBytes \(65536 bytes\)/,
      target: "ol/ndjson-line",
    },
  ];

  for (const c of cases) {
    it(`stops reading ${c.name} at the limit and names it, in every dialect`, async () => {
      for (const d of DIALECTS) {
        const before = upstream.served.length;
        const res = await post(`${tandem.url}${d.path}`, d.body(c.model));
        // Anthropic's API answers an upstream failure as 500 api_error (it sends no 502).
        assert.equal(res.status, d.dialect === "anthropic" ? 500 : 502, `${d.dialect}: ${JSON.stringify(res.json)}`);
        const message = errorMessage(d.dialect, res.json);
        assert.match(message, c.setting, d.dialect);
        assert.ok(message.includes(c.target), message);
        const served = upstream.served.slice(before);
        assert.equal(served.length, 1, "one attempt, no retry of an oversize answer");
        // The upstream's connection was dropped well before its 200 MB were written.
        await waitFor(() => served[0]?.cutShort === true, `${d.dialect}: the upstream's connection was not closed early`);
        assert.ok((served[0]?.sent ?? 0) < 64 * 1024 * 1024, `${d.dialect}: sent ${served[0]?.sent}`);
      }
    });
  }

  it("counts the frames a same-wire client that did not stream is sent put together, not only their text", async () => {
    // The OpenAI client's body goes to the OpenAI-compatible upstream as it came, and its answer is
    // the upstream's chunks put together: each held until the end, a few KB for one word of text.
    const before = upstream.served.length;
    const res = await post(`${tandem.url}/v1/chat/completions`, {
      model: "up/sse-heavy",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(res.status, 502, JSON.stringify(res.json));
    assert.match(errorMessage("openai", res.json), /up\/sse-heavy exceeded limits\.maxAnswerBytes \(262144 bytes\)/);
    const served = upstream.served.slice(before);
    await waitFor(() => served[0]?.cutShort === true, "the upstream's connection was not closed early");
    assert.ok((served[0]?.sent ?? 0) < 16 * 1024 * 1024, `sent ${served[0]?.sent}`);
  });

  it("reads only the start of a huge upstream error body and passes its status on", async () => {
    for (const d of DIALECTS) {
      const before = upstream.served.length;
      const res = await post(`${tandem.url}${d.path}`, d.body("errors"));
      assert.ok(res.status >= 500, `${d.dialect}: ${res.status}`);
      const message = errorMessage(d.dialect, res.json);
      assert.ok(message.length <= 70_000, `${d.dialect}: a ${message.length}-character message`);
      const served = upstream.served.slice(before);
      await waitFor(() => served[0]?.cutShort === true, `${d.dialect}: the error body was read to its end`);
    }
  });

  it("still answers a normal request afterwards", async () => {
    const res = await post(`${tandem.url}/v1/chat/completions`, DIALECTS[0]?.body("up/ok"));
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal((res.json as { choices: { message: { content: string } }[] }).choices[0]?.message.content, "fine");
  });
});

async function waitFor(condition: () => boolean, message: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(condition(), message);
}

/** POSTs the first half of a body with its full length declared, then stalls. */
function postHalf(url: string, path: string, body: string): Promise<{ status: number; body: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const bytes = Buffer.from(body);
    const req = request(
      `${url}${path}`,
      { method: "POST", headers: { "content-type": "application/json", "content-length": bytes.length } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, closed: res.headers.connection === "close" }));
      },
    );
    req.on("error", reject);
    req.write(bytes.subarray(0, bytes.length >> 1));
  });
}

describe("request body limits", () => {
  let tandem: RunningTandem;
  let upstream: Awaited<ReturnType<typeof startEndlessUpstream>>;

  before(async () => {
    upstream = await startEndlessUpstream();
    tandem = await startTandem({
      server: { bodyTimeoutMs: 300, bodyLimit: 64 * 1024 },
      providers: { up: { kind: "openai", baseUrl: `${upstream.url}/v1`, models: ["ok", "slow"] } },
    });
  });

  after(async () => {
    await tandem?.close();
    await upstream?.close();
  });

  it("answers a client that stalls mid-body with 408 in its dialect, naming server.bodyTimeoutMs", async () => {
    for (const d of DIALECTS) {
      const res = await postHalf(tandem.url, d.path, JSON.stringify(d.body("up/ok")));
      assert.equal(res.status, 408, `${d.dialect}: ${res.body}`);
      assert.match(errorMessage(d.dialect, JSON.parse(res.body)), /server\.bodyTimeoutMs \(300 ms\)/, d.dialect);
      assert.ok(res.closed, `${d.dialect}: the connection is closed, so the rest of the body is not read`);
    }
    assert.equal(upstream.served.length, 0, "no stalled request reached the upstream");
  });

  it("does not cut a body that arrives in time, nor an answer that takes longer than the body timeout", async () => {
    const res = await post(`${tandem.url}/v1/chat/completions`, DIALECTS[0]?.body("up/slow"));
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal((res.json as { choices: { message: { content: string } }[] }).choices[0]?.message.content, "slow");
  });

  it("still refuses a body over server.bodyLimit with 413", async () => {
    const res = await post(`${tandem.url}/v1/messages`, { ...DIALECTS[1]?.body("up/ok"), junk: "x".repeat(70 * 1024) });
    assert.equal(res.status, 413);
    assert.match(errorMessage("anthropic", res.json), /too large/);
  });
});
