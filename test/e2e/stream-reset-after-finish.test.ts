/**
 * An upstream whose connection drops after its finish came (OpenAI: after the finish_reason, even
 * after the usage chunk, before [DONE]; Anthropic: after message_delta's stop reason, before
 * message_stop) gave a complete answer: README says such a stream is not broken. It ends as it is,
 * on its own target, and is neither continued on the next target nor answered afresh there.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { PATIENT_TIMEOUTS, type RunningTandem, startTandem } from "../support/tandem.js";

const sse = (data: unknown, event?: string) => `${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`;

const chunk = (delta: unknown, finish: string | null = null) => ({
  id: "c1",
  object: "chat.completion.chunk",
  created: 1,
  model: "m",
  choices: [{ index: 0, delta, finish_reason: finish }],
});

/** An OpenAI stream up to its finish (and, with `usage`, its usage chunk), without [DONE]. */
function openAIFinished(usage: boolean): string[] {
  const writes = [sse(chunk({ role: "assistant", content: "Hi" })), sse(chunk({ content: " there" })), sse(chunk({}, "stop"))];
  if (usage) writes.push(sse({ ...chunk({}), choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }));
  return writes;
}

/** An Anthropic stream up to message_delta's stop reason, without message_stop. */
const anthropicFinished = [
  sse(
    {
      type: "message_start",
      message: {
        id: "msg_1",
        type: "message",
        role: "assistant",
        model: "m",
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 3, output_tokens: 1 },
      },
    },
    "message_start",
  ),
  sse({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }, "content_block_start"),
  sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hi" } }, "content_block_delta"),
  sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: " there" } }, "content_block_delta"),
  sse({ type: "content_block_stop", index: 0 }, "content_block_stop"),
  sse(
    { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 2 } },
    "message_delta",
  ),
];

let first: ScriptedUpstream;
let backup: FakeOpenAIUpstream;
let tandem: RunningTandem;

before(async () => {
  first = await startScriptedUpstream();
  backup = await startFakeOpenAI({ models: ["m"] });
  backup.script(() => ({ kind: "text", text: "Hello from b." }));
  tandem = await startTandem({
    providers: {
      a: { kind: "openai", baseUrl: `${first.url}/v1`, models: ["m"] },
      c: { kind: "anthropic", baseUrl: first.url, models: ["m"] },
      b: { kind: "openai", baseUrl: backup.url, models: ["m"] },
    },
    routes: {
      q: { tiers: ["a/m", "b/m"], timeouts: PATIENT_TIMEOUTS },
      qc: { tiers: ["c/m", "b/m"], timeouts: PATIENT_TIMEOUTS },
    },
  });
});

after(async () => {
  await tandem.close();
  await first.close();
  await backup.close();
});

beforeEach(() => {
  first.clear();
  backup.requests.length = 0;
});

async function post(path: string, body: Record<string, unknown>): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${tandem.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

const CASES = [
  { upstream: "OpenAI, reset after the finish_reason", route: "q", writes: openAIFinished(false) },
  { upstream: "OpenAI, reset after the usage chunk", route: "q", writes: openAIFinished(true) },
  { upstream: "Anthropic, reset after message_delta", route: "qc", writes: anthropicFinished },
] as const;

describe("a connection reset after the upstream's finish", () => {
  for (const { upstream, route, writes } of CASES) {
    it(`${upstream}: a streaming chat client gets the answer as it finished, from its target alone`, async () => {
      first.script(() => ({ kind: "stream", contentType: "text/event-stream", writes: [...writes], breakOff: true }));
      const { status, text, headers } = await post("/v1/chat/completions", {
        model: route,
        stream: true,
        messages: [{ role: "user", content: "hi" }],
      });
      assert.equal(status, 200);
      assert.doesNotMatch(text, /switched|Hello from b/, text);
      assert.match(text, /"finish_reason":"stop"/, text);
      assert.match(text, /data: \[DONE\]/);
      assert.equal(headers.get("x-tandem-degraded"), "false");
      assert.equal(backup.requests.filter((r) => r.method === "POST").length, 0);
    });

    it(`${upstream}: a client that did not stream gets the answer, not a fresh one from the next target`, async () => {
      first.script(() => ({ kind: "stream", contentType: "text/event-stream", writes: [...writes], breakOff: true }));
      const { status, text, headers } = await post("/v1/chat/completions", {
        model: route,
        messages: [{ role: "user", content: "hi" }],
      });
      assert.equal(status, 200, text);
      const json = JSON.parse(text) as { choices: { message: { content: string }; finish_reason: string }[] };
      assert.equal(json.choices[0]?.message.content, "Hi there");
      assert.equal(json.choices[0]?.finish_reason, "stop");
      assert.equal(headers.get("x-tandem-degraded"), "false");
      assert.equal(backup.requests.filter((r) => r.method === "POST").length, 0);
    });
  }

  it("Anthropic to Anthropic (same wire): the client is sent the message_stop the upstream did not send", async () => {
    first.script(() => ({ kind: "stream", contentType: "text/event-stream", writes: [...anthropicFinished], breakOff: true }));
    const { status, text } = await post("/v1/messages", {
      model: "qc",
      stream: true,
      max_tokens: 50,
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(status, 200);
    assert.doesNotMatch(text, /switched|Hello from b/, text);
    assert.match(text, /"stop_reason":"end_turn"/);
    assert.match(text, /event: message_stop/);
    assert.equal(backup.requests.filter((r) => r.method === "POST").length, 0);
  });

  it("a reset before the finish is still a broken stream, continued on the next target", async () => {
    first.script(() => ({
      kind: "stream",
      contentType: "text/event-stream",
      writes: openAIFinished(false).slice(0, 2),
      breakOff: true,
    }));
    const { status, text } = await post("/v1/chat/completions", {
      model: "q",
      stream: true,
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(status, 200);
    assert.match(text, /switched from a\/m to b\/m/);
    assert.equal(backup.requests.filter((r) => r.method === "POST").length, 1);
  });
});

describe("a continuation has only what is left of the client's max_tokens", () => {
  // A token each, as a model writes them (by the tokenizer too, which counts the tokens given when an
  // upstream sends several a delta): the space before a word, not after it.
  const words = ["one", " two", " three", " four", " five", " six", " seven", " eight"];
  const broken = () => [
    sse(chunk({ role: "assistant", content: words[0] })),
    ...words.slice(1).map((w) => sse(chunk({ content: w }))),
  ];

  it("the next target is asked for the tokens left, not the client's whole max_tokens", async () => {
    first.script(() => ({ kind: "stream", contentType: "text/event-stream", writes: broken(), breakOff: true }));
    const { status, text } = await post("/v1/chat/completions", {
      model: "q",
      stream: true,
      max_tokens: 10,
      messages: [{ role: "user", content: "count" }],
    });
    assert.equal(status, 200);
    assert.match(text, /switched from a\/m to b\/m/);
    const sent = backup.requests.filter((r) => r.method === "POST").map((r) => r.body as Record<string, unknown>);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.max_completion_tokens ?? sent[0]?.max_tokens, 2, JSON.stringify(sent[0]));
  });

  it("with none left the answer ends as cut by the limit, and no other target is asked (Anthropic client)", async () => {
    first.script(() => ({ kind: "stream", contentType: "text/event-stream", writes: broken(), breakOff: true }));
    const { status, text } = await post("/v1/messages", {
      model: "q",
      stream: true,
      max_tokens: 8,
      messages: [{ role: "user", content: "count" }],
    });
    assert.equal(status, 200);
    assert.match(text, /"stop_reason":"max_tokens"/, text.slice(-600));
    assert.match(text, /event: message_stop/);
    assert.equal(backup.requests.filter((r) => r.method === "POST").length, 0);
  });
});
