/**
 * Adversarial privacy pass, state a client carries in a form privacy cannot read: Ollama's
 * `/api/generate` `context`, the token ids of an earlier exchange (its prompt and answer) that an
 * Ollama client sends back to continue it. On the same-wire path the body goes as the client sent
 * it, so a cloud Ollama upstream would be given those ids and read the earlier (possibly private)
 * conversation back; they must count as content classification cannot read, as an image does.
 * And an upstream's error that quotes a private request back.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let cloud: ScriptedUpstream;
let home: ScriptedUpstream;
let tandem: RunningTandem;
let client: Ollama;

/** Token ids as an Ollama answer's `context` holds them: the earlier prompt and answer, encoded. */
const CONTEXT = [128006, 882, 128007, 271, 3923, 374, 856, 6596, 2082, 30, 128009, 128006, 78191, 128007, 271];

before(async () => {
  [cloud, home] = await Promise.all([startScriptedUpstream(), startScriptedUpstream()]);
  const fast = { retry: { attempts: 1, baseMs: 0, maxMs: 0 }, timeouts: { firstTokenMs: 5000, idleMs: 5000 } };
  tandem = await startTandem({
    privacy: { default: "local-only" },
    providers: {
      cloud: { kind: "ollama", baseUrl: cloud.url, local: false, models: { llama: { id: "llama3.2:latest" } } },
      home: { kind: "ollama", baseUrl: home.url, local: true, models: { llama: { id: "llama3.2:latest" } } },
    },
    routes: {
      "cloud-only": { tiers: ["cloud/llama"], privacy: "local-only", ...fast },
      "home-first": { tiers: ["home/llama", "cloud/llama"], privacy: "local-only", ...fast },
      "cloud-redact": { tiers: ["cloud/llama"], privacy: "redact", ...fast },
    },
  });
  client = new Ollama({ host: tandem.url });
});

after(async () => {
  await tandem?.close();
  await Promise.all([cloud?.close(), home?.close()]);
});

/** /api/generate as Ollama answers it whole. */
const ANSWER = {
  model: "llama3.2:latest",
  created_at: "2026-01-01T00:00:00Z",
  response: "Hello from ollama",
  done: true,
  done_reason: "stop",
  context: [1, 2, 3],
};

beforeEach(() => {
  cloud.clear();
  home.clear();
  cloud.script(() => ({ kind: "json", body: ANSWER }));
  home.script(() => ({ kind: "json", status: 500, body: { error: "local engine down" } }));
});

describe("Ollama /api/generate context (an earlier exchange as token ids)", () => {
  it("is not sent to a cloud Ollama on a local-only route: the request is refused", async () => {
    await assert.rejects(
      client.generate({ model: "cloud-only", prompt: "And then?", context: CONTEXT, stream: false }),
      (err: unknown) => {
        assert.equal((err as { status_code?: number }).status_code, 403, String(err));
        assert.match(String(err), /cannot be read/);
        return true;
      },
    );
    assert.equal(cloud.requests.length, 0, "the cloud upstream was sent the context");
  });

  it("does not fail over to a cloud Ollama when the local target fails", async () => {
    await assert.rejects(client.generate({ model: "home-first", prompt: "And then?", context: CONTEXT, stream: false }));
    assert.equal(home.requests.length, 1, "the local target was tried");
    assert.equal(cloud.requests.length, 0, "the cloud upstream was sent the context");
  });

  it("cannot be redacted, so a redacting route keeps it on this machine", async () => {
    await assert.rejects(client.generate({ model: "cloud-redact", prompt: "And then?", context: CONTEXT, stream: false }));
    assert.equal(cloud.requests.length, 0, "the cloud upstream was sent the context");
  });

  it("without context (or declared public) the same request goes to the cloud as before", async () => {
    const plain = await client.generate({ model: "cloud-only", prompt: "And then?", stream: false });
    assert.equal(plain.response, "Hello from ollama");
    const declared = new Ollama({ host: tandem.url, headers: { "x-tandem-sensitivity": "public" } });
    await declared.generate({ model: "cloud-only", prompt: "And then?", context: CONTEXT, stream: false });
    assert.equal(cloud.requests.length, 2);
    assert.deepEqual((cloud.requests[1]?.body as { context?: number[] }).context, CONTEXT, "sent as the client sent it");
  });
});

/**
 * An upstream's error that quotes the request it refused (FastAPI's 422s quote their `input`,
 * proxies quote the messages): its text reaches the client's error, tandem's log line and the
 * target's last error in /v1/status, which must not hold the private values it quotes.
 */
describe("an upstream error that quotes the private request", () => {
  const CARD = ["4111", "1111", "1111", "1111"].join(" ");
  const EMAIL = ["quoted.canary", "example.org"].join("@");
  let upstream: FakeOpenAIUpstream;
  let server: RunningTandem;
  const log: string[] = [];

  before(async () => {
    upstream = await startFakeOpenAI({ models: ["m"] });
    server = await startTandem(
      {
        providers: { home: { kind: "openai", baseUrl: upstream.url, local: true, models: ["m"] } },
        routes: { mine: { tiers: ["home/m"], retry: { attempts: 1, baseMs: 0, maxMs: 0 } } },
      },
      { log },
    );
    upstream.script((request) => ({
      kind: "error",
      status: 500,
      message: `Input should be valid: ${JSON.stringify((request.body as { messages: unknown }).messages)}`,
    }));
  });

  after(async () => {
    await server?.close();
    await upstream?.close();
  });

  it("is masked in the client's error, the log line and /v1/status, and still says what failed", async () => {
    const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const err = await openai.chat.completions
      .create({ model: "mine", messages: [{ role: "user", content: `Charge ${CARD}, receipt to ${EMAIL}` }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.match(err.message, /Input should be valid/);
    assert.match(err.message, /\[payment_card\].*\[email\]/);
    const status = await (await fetch(`${server.url}/v1/status`)).text();
    assert.match(status, /Input should be valid/, "the target's last error is shown");
    const lines = log.join("\n");
    assert.match(lines, /Input should be valid/, "the failure is logged");
    for (const [where, text] of [
      ["the client's error", err.message],
      ["/v1/status", status],
      ["the log", lines],
    ] as const) {
      assert.ok(!text.includes("4111") && !text.includes(EMAIL), `${where} holds a private value: ${text.slice(0, 400)}`);
    }
  });
});

/**
 * Mid-stream continuation on a redacting route: a local target's partial answer is written after
 * the request was classified, so the redaction only knows the values the request showed. A local
 * model that writes one in another spelling, then breaks off, must not have that text carried to a
 * cloud target to go on from (as a summary of the history is not).
 */
describe("a local target's partial answer continued on a redacting route", () => {
  const PHONE = "+1 415-555-0177";
  const RESPELLED = "(415) 555-0177";
  let home: FakeOpenAIUpstream;
  let cloud: FakeOpenAIUpstream;
  let server: RunningTandem;

  const chunk = (content: string) =>
    `data: ${JSON.stringify({
      id: "chatcmpl-local",
      object: "chat.completion.chunk",
      created: 1,
      model: "m",
      choices: [{ index: 0, delta: { content }, finish_reason: null }],
    })}\n\n`;

  before(async () => {
    [home, cloud] = await Promise.all([startFakeOpenAI({ models: ["m"] }), startFakeOpenAI({ models: ["gpt"] })]);
    const fast = { retry: { attempts: 1, baseMs: 0, maxMs: 0 }, timeouts: { firstTokenMs: 5000, idleMs: 5000 } };
    server = await startTandem(
      {
        privacy: { default: "local-only" },
        providers: {
          home: { kind: "openai", baseUrl: home.url, local: true, models: ["m"] },
          cloud: { kind: "openai", baseUrl: cloud.url, local: false, apiKeys: ["env:K"], models: ["gpt"] },
        },
        routes: { "redact-first": { tiers: ["home/m", "cloud/gpt"], privacy: "redact", ...fast } },
      },
      { env: { K: "sk-upstream-cloud" } },
    );
    cloud.script(() => ({ kind: "text", text: " and that is all." }));
  });

  after(async () => {
    await server?.close();
    await Promise.all([home?.close(), cloud?.close()]);
  });

  const ask = async () => {
    const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const stream = await openai.chat.completions.create({
      model: "redact-first",
      stream: true,
      messages: [{ role: "user", content: `Call me back on ${PHONE} about the order.` }],
    });
    let text = "";
    for await (const part of stream) text += part.choices[0]?.delta.content ?? "";
    return text;
  };

  it("does not send a value the redaction has no placeholder for to the cloud target", async () => {
    home.script(() => ({
      kind: "raw",
      body: [chunk("Sure, I will call "), chunk(`${RESPELLED} tomorrow`)],
      end: "destroy",
    }));
    cloud.requests.length = 0;
    await ask().catch(() => "");
    const sent = JSON.stringify(cloud.requests.map((r) => r.body));
    assert.ok(
      !sent.includes("555-0177") && !sent.includes("5550177"),
      `the cloud target was sent the value: ${sent.slice(0, 600)}`,
    );
  });

  it("continues on the cloud target, redacted, when the partial answer holds only values it knows", async () => {
    home.script(() => ({ kind: "raw", body: [chunk("Sure, I will call "), chunk(`${PHONE} tomorrow`)], end: "destroy" }));
    cloud.requests.length = 0;
    const text = await ask();
    assert.equal(cloud.requests.length, 1, "the answer went on on the cloud target");
    const sent = JSON.stringify(cloud.requests[0]?.body);
    assert.ok(!sent.includes("555-0177"), sent);
    assert.match(text, /Sure, I will call \+1 415-555-0177 tomorrow and that is all\./);
  });
});
