/**
 * A streamed answer that breaks off mid-way and goes on on another target stays within the client's
 * output limit as a whole, in every form the limit takes (OpenAI chat's `max_tokens` and
 * `max_completion_tokens`, the Responses API's `max_output_tokens`, Anthropic's `max_tokens`,
 * Ollama's `options.num_predict`), on the same-wire path (the first target speaks the client's wire
 * and its own frames are passed through) and on the canonical one (another wire, rendered): the
 * continuation is asked for what is left, and with nothing left no target is asked and the answer
 * ends with the client's dialect's length finish, never a request for one token more.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { loadTokenCounter } from "../../src/context/estimate-input-tokens.js";
import { anthropicFrame, anthropicMessageStart } from "../support/fake-anthropic-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { PATIENT_TIMEOUTS, type RunningTandem, startTandem } from "../support/tandem.js";

/**
 * The pieces the first target sends before its connection drops: a token each (by the tokenizer too),
 * 20 of them (the Responses API takes no max_output_tokens under 16).
 */
const WORDS = [
  " one",
  " two",
  " three",
  " four",
  " five",
  " six",
  " seven",
  " eight",
  " nine",
  " ten",
  " red",
  " blue",
  " green",
  " black",
  " white",
  " cat",
  " dog",
  " sun",
  " moon",
  " tree",
];
const SENT = WORDS.join("");

type Wire = "chat" | "responses" | "anthropic" | "ollama";

const sse = (data: unknown, event?: string) => `${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`;

/** Each wire's stream of WORDS, broken off before its finish. */
function brokenStream(wire: Wire): { contentType: string; writes: string[] } {
  switch (wire) {
    case "chat": {
      const chunk = (delta: unknown) => ({
        id: "c1",
        object: "chat.completion.chunk",
        created: 1,
        model: "up",
        choices: [{ index: 0, delta, finish_reason: null }],
      });
      return {
        contentType: "text/event-stream",
        writes: [sse(chunk({ role: "assistant", content: WORDS[0] })), ...WORDS.slice(1).map((w) => sse(chunk({ content: w })))],
      };
    }
    case "anthropic":
      return {
        contentType: "text/event-stream",
        writes: [
          anthropicMessageStart("up", 3),
          anthropicFrame("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
          ...WORDS.map((text) => anthropicFrame("content_block_delta", { index: 0, delta: { type: "text_delta", text } })),
        ],
      };
    case "ollama":
      return {
        contentType: "application/x-ndjson",
        writes: WORDS.map(
          (content) =>
            `${JSON.stringify({ model: "up", created_at: "2026-01-01T00:00:00Z", message: { role: "assistant", content }, done: false })}\n`,
        ),
      };
    case "responses": {
      const inProgress = { id: "resp_up", object: "response", created_at: 1, status: "in_progress", model: "up", output: [] };
      const at = { item_id: "msg_up", output_index: 0, content_index: 0 };
      const events: Array<[string, Record<string, unknown>]> = [
        ["response.created", { response: inProgress }],
        [
          "response.output_item.added",
          { output_index: 0, item: { id: "msg_up", type: "message", role: "assistant", status: "in_progress", content: [] } },
        ],
        ["response.content_part.added", { ...at, part: { type: "output_text", text: "", annotations: [] } }],
        ...WORDS.map((delta): [string, Record<string, unknown>] => ["response.output_text.delta", { ...at, delta }]),
      ];
      return {
        contentType: "text/event-stream",
        writes: events.map(([type, data], i) => sse({ type, sequence_number: i, ...data }, type)),
      };
    }
  }
}

/** A client's form of the output limit: its path, the body that sets the limit, and how its answer says it was cut. */
interface LimitForm {
  name: string;
  wire: Wire;
  path: string;
  body: (limit: number) => Record<string, unknown>;
  /** The text the client was sent, from the raw stream. */
  text: (raw: string) => string;
  /** Asserts the stream ended whole, cut by the limit, in the client's dialect. */
  cut: (raw: string) => void;
  /** The output tokens the answer's usage reports, in the client's dialect's own field. */
  outputTokens: (raw: string) => unknown;
}

/** The parsed data of each SSE message (with its event name), [DONE] left out. */
function sseData(raw: string): { event?: string; data: Record<string, unknown> }[] {
  const out: { event?: string; data: Record<string, unknown> }[] = [];
  for (const block of raw.split("\n\n")) {
    let event: string | undefined;
    let data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data += line.slice(6);
    }
    if (data === "" || data === "[DONE]") continue;
    out.push({ ...(event !== undefined && { event }), data: JSON.parse(data) as Record<string, unknown> });
  }
  return out;
}

type Json = Record<string, unknown> & { choices?: { delta?: { content?: string }; finish_reason?: string | null }[] };

const chatForm = (field: "max_tokens" | "max_completion_tokens"): LimitForm => ({
  name: `OpenAI chat ${field}`,
  wire: "chat",
  path: "/v1/chat/completions",
  body: (limit) => ({
    stream: true,
    stream_options: { include_usage: true },
    [field]: limit,
    messages: [{ role: "user", content: "count" }],
  }),
  text: (raw) =>
    sseData(raw)
      .map((m) => (m.data as Json).choices?.[0]?.delta?.content ?? "")
      .join(""),
  cut: (raw) => {
    const finishes = sseData(raw)
      .map((m) => (m.data as Json).choices?.[0]?.finish_reason)
      .filter((f) => f != null);
    assert.deepEqual(finishes, ["length"], raw);
    assert.match(raw, /data: \[DONE\]\n\n$/, raw);
  },
  outputTokens: (raw) =>
    (sseData(raw).find((m) => m.data.usage)?.data.usage as { completion_tokens?: number })?.completion_tokens,
});

const FORMS: LimitForm[] = [
  chatForm("max_tokens"),
  chatForm("max_completion_tokens"),
  {
    name: "Responses max_output_tokens",
    wire: "responses",
    path: "/v1/responses",
    body: (limit) => ({ stream: true, store: false, max_output_tokens: limit, input: "count" }),
    text: (raw) =>
      sseData(raw)
        .filter((m) => m.event === "response.output_text.delta")
        .map((m) => m.data.delta as string)
        .join(""),
    cut: (raw) => {
      const last = sseData(raw).at(-1);
      assert.equal(last?.event, "response.incomplete", raw);
      const response = last?.data.response as { status: string; incomplete_details: { reason: string } };
      assert.equal(response.status, "incomplete");
      assert.deepEqual(response.incomplete_details, { reason: "max_output_tokens" });
    },
    outputTokens: (raw) => (sseData(raw).at(-1)?.data.response as { usage?: { output_tokens?: number } })?.usage?.output_tokens,
  },
  {
    name: "Anthropic max_tokens",
    wire: "anthropic",
    path: "/v1/messages",
    body: (limit) => ({ stream: true, max_tokens: limit, messages: [{ role: "user", content: "count" }] }),
    text: (raw) =>
      sseData(raw)
        .filter((m) => m.event === "content_block_delta")
        .map((m) => (m.data.delta as { text?: string }).text ?? "")
        .join(""),
    cut: (raw) => {
      const messages = sseData(raw);
      const stops = messages
        .filter((m) => m.event === "message_delta")
        .map((m) => (m.data.delta as { stop_reason: string }).stop_reason);
      assert.deepEqual(stops, ["max_tokens"], raw);
      assert.equal(messages.at(-1)?.event, "message_stop", raw);
      // Every block opened was closed.
      const opened = messages.filter((m) => m.event === "content_block_start").length;
      assert.equal(messages.filter((m) => m.event === "content_block_stop").length, opened, raw);
    },
    outputTokens: (raw) =>
      (sseData(raw).find((m) => m.event === "message_delta")?.data.usage as { output_tokens?: number })?.output_tokens,
  },
  {
    name: "Ollama options.num_predict",
    wire: "ollama",
    path: "/api/chat",
    body: (limit) => ({ stream: true, options: { num_predict: limit }, messages: [{ role: "user", content: "count" }] }),
    text: (raw) =>
      raw
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => (JSON.parse(l) as { message?: { content?: string } }).message?.content ?? "")
        .join(""),
    cut: (raw) => {
      const lines = raw
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as { done: boolean; done_reason?: string });
      assert.deepEqual(
        lines.filter((l) => l.done).map((l) => l.done_reason),
        ["length"],
        raw,
      );
      assert.equal(lines.at(-1)?.done, true, raw);
    },
    outputTokens: (raw) =>
      (
        raw
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => JSON.parse(l) as { done: boolean; eval_count?: number })
          .at(-1) as { eval_count?: number }
      ).eval_count,
  },
];

/** The first target on each wire (all on one scripted upstream); another wire's for the canonical path. */
const TARGET: Record<Wire, string> = { chat: "soc", responses: "sor", anthropic: "san", ollama: "sol" };
const OTHER: Record<Wire, Wire> = { chat: "anthropic", responses: "chat", anthropic: "chat", ollama: "chat" };

let first: ScriptedUpstream;
let backup: FakeOpenAIUpstream;
let tandem: RunningTandem;

before(async () => {
  first = await startScriptedUpstream();
  backup = await startFakeOpenAI({ models: ["m"] });
  const models = { m: { id: "up" } };
  const once = { retry: { attempts: 1 }, timeouts: PATIENT_TIMEOUTS };
  const routes = Object.fromEntries(
    Object.entries(TARGET).map(([wire, target]) => [`via-${wire}`, { tiers: [`${target}/m`, "backup/m"], ...once }]),
  );
  tandem = await startTandem({
    providers: {
      soc: { kind: "openai", baseUrl: `${first.url}/v1`, models },
      sor: { kind: "openai", baseUrl: `${first.url}/v1`, responses: "only", models },
      san: { kind: "anthropic", baseUrl: first.url, models },
      sol: { kind: "ollama", baseUrl: first.url, models },
      backup: { kind: "openai", baseUrl: backup.url, models: ["m"] },
    },
    routes,
    // Every first target here breaks on purpose: no breaker opens between the cases.
    breaker: { failureThreshold: 1000, cooldownMs: 1000 },
  });
});

after(async () => {
  await tandem?.close();
  await first?.close();
  await backup?.close();
});

beforeEach(() => {
  first.clear();
  backup.requests.length = 0;
  backup.script(() => ({ kind: "text", text: " more" }));
});

/** The output limit of each request the backup was sent, whichever field its wire carries it in. */
function backupLimits(): unknown[] {
  return backup.requests
    .filter((r) => r.method === "POST")
    .map((r) => {
      const body = r.body as Record<string, unknown>;
      return body.max_completion_tokens ?? body.max_tokens;
    });
}

async function ask(form: LimitForm, via: Wire, limit: number): Promise<{ raw: string; headers: Headers }> {
  const { contentType, writes } = brokenStream(via);
  first.script(() => ({ kind: "stream", contentType, writes, breakOff: true }));
  const res = await fetch(`${tandem.url}${form.path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: `via-${via}`, ...form.body(limit) }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return { raw: await res.text(), headers: res.headers };
}

for (const form of FORMS) {
  for (const path of ["same-wire", "canonical"] as const) {
    const via = path === "same-wire" ? form.wire : OTHER[form.wire];
    describe(`${form.name}, ${path} (first target on ${via})`, () => {
      it("the continuation is asked for the tokens left of the client's limit", async () => {
        assert.equal((await loadTokenCounter())(SENT), WORDS.length, "a token a word, by the tokenizer too");
        const { raw } = await ask(form, via, WORDS.length + 2);
        assert.equal(first.requests.length, 1);
        assert.deepEqual(backupLimits(), [2], raw);
        assert.equal(form.text(raw), `${SENT} more`, raw);
      });

      it("with none left, no target is asked and the answer ends cut by the limit", async () => {
        const { raw } = await ask(form, via, WORDS.length);
        assert.deepEqual(backupLimits(), [], "no target is asked for a token past the limit");
        assert.equal(form.text(raw), SENT, raw);
        form.cut(raw);
        // The broken upstream never sent its usage: the tokens it gave are reported, not none.
        assert.equal(form.outputTokens(raw), WORDS.length, raw);
      });
    });
  }
}

describe("the tokens given are counted as the upstream wrote them, not a token a delta", () => {
  /** Four deltas of a sentence each, as Anthropic streams text: several tokens a delta. */
  const SENTENCES = Array.from({ length: 4 }, () => "The quick brown fox jumps over the lazy dog. ");
  const anthropicSentences = (): string[] => [
    anthropicMessageStart("up", 3),
    anthropicFrame("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
    ...SENTENCES.map((text) => anthropicFrame("content_block_delta", { index: 0, delta: { type: "text_delta", text } })),
  ];
  const anthropicForm = FORMS.find((f) => f.wire === "anthropic") as LimitForm;
  const chatClient = FORMS[0] as LimitForm;

  for (const form of [anthropicForm, chatClient]) {
    it(`an upstream that sends several tokens a delta (Anthropic's), to an ${form.name} client`, async () => {
      const tokens = (await loadTokenCounter())(SENTENCES.join(""));
      assert.ok(tokens > 4 * SENTENCES.length, `${tokens} tokens in ${SENTENCES.length} deltas`);
      const send = async (limit: number) => {
        first.clear();
        backup.requests.length = 0;
        first.script(() => ({ kind: "stream", contentType: "text/event-stream", writes: anthropicSentences(), breakOff: true }));
        const res = await fetch(`${tandem.url}${form.path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "via-anthropic", ...form.body(limit) }),
        });
        assert.equal(res.status, 200);
        return res.text();
      };
      // What is left of the limit by the tokens written, where a token a delta would leave limit - 4.
      const raw = await send(tokens + 5);
      assert.deepEqual(backupLimits(), [5], raw);
      assert.equal(form.text(raw), `${SENTENCES.join("")} more`, raw);
      // The limit spent by four deltas: nothing left to ask for.
      const spent = await send(tokens);
      assert.deepEqual(backupLimits(), [], spent);
      assert.equal(form.text(spent), SENTENCES.join(""), spent);
      form.cut(spent);
    });
  }

  it("reasoning the upstream streamed counts towards the limit too (OpenAI chat's reasoning_content)", async () => {
    const chunk = (delta: unknown) =>
      sse({
        id: "c1",
        object: "chat.completion.chunk",
        created: 1,
        model: "up",
        choices: [{ index: 0, delta, finish_reason: null }],
      });
    // Ten reasoning deltas and five of text, a token each (" the" is one token).
    const writes = [
      chunk({ role: "assistant", reasoning_content: " the" }),
      ...Array.from({ length: 9 }, () => chunk({ reasoning_content: " the" })),
      ...Array.from({ length: 5 }, () => chunk({ content: " the" })),
    ];
    first.script(() => ({ kind: "stream", contentType: "text/event-stream", writes, breakOff: true }));
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "via-chat", ...chatClient.body(20) }),
    });
    const raw = await res.text();
    assert.equal(res.status, 200, raw);
    assert.deepEqual(backupLimits(), [5], raw);
  });
});
