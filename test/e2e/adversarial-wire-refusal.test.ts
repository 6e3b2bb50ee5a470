/**
 * A model's refusal reaching a chat completions client through the canonical path (here from a
 * Responses-only OpenAI upstream, whose `refusal` part tandem reads as text marked `refusal`): the
 * chat completions API has a place for it, `message.refusal` (streamed: `delta.refusal`), and the
 * openai SDK's parse helpers rely on it: a refusal given as `content` would be parsed as the JSON the
 * response_format asks for and throw.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { zodResponseFormat } from "openai/helpers/zod";
import { z } from "zod";
import { type ScriptedReply, type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const REFUSAL = "I can't help with that.";

let upstream: ScriptedUpstream;
let tandem: RunningTandem;
let client: OpenAI;

/** A Responses answer whose one message holds a refusal part (and, when `text`, an output_text part before it). */
function refusalAnswer(stream: boolean, text?: string): ScriptedReply {
  const base = {
    id: "resp_up",
    object: "response",
    created_at: 1,
    model: "gpt-up",
    usage: { input_tokens: 5, output_tokens: 6, total_tokens: 11 },
  };
  const parts = [...(text ? [{ type: "output_text", text, annotations: [] }] : []), { type: "refusal", refusal: REFUSAL }];
  const message = { id: "msg_up", type: "message", role: "assistant", status: "completed", content: parts };
  if (!stream) return { kind: "json", body: { ...base, status: "completed", output: [message] } };
  let n = 0;
  const frame = (type: string, data: object) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: n++, ...data })}\n\n`;
  const at = { item_id: "msg_up", output_index: 0 };
  const writes = [
    frame("response.created", { response: { ...base, status: "in_progress", output: [] } }),
    frame("response.output_item.added", { output_index: 0, item: { ...message, status: "in_progress", content: [] } }),
  ];
  parts.forEach((part, content_index) => {
    if (part.type === "output_text") {
      writes.push(frame("response.content_part.added", { ...at, content_index, part: { ...part, text: "" } }));
      writes.push(frame("response.output_text.delta", { ...at, content_index, delta: text, logprobs: [] }));
      writes.push(frame("response.output_text.done", { ...at, content_index, text, logprobs: [] }));
    } else {
      writes.push(frame("response.content_part.added", { ...at, content_index, part: { type: "refusal", refusal: "" } }));
      writes.push(frame("response.refusal.delta", { ...at, content_index, delta: REFUSAL.slice(0, 5) }));
      writes.push(frame("response.refusal.delta", { ...at, content_index, delta: REFUSAL.slice(5) }));
      writes.push(frame("response.refusal.done", { ...at, content_index, refusal: REFUSAL }));
    }
    writes.push(frame("response.content_part.done", { ...at, content_index, part }));
  });
  writes.push(frame("response.output_item.done", { output_index: 0, item: message }));
  writes.push(frame("response.completed", { response: { ...base, status: "completed", output: [message] } }));
  return { kind: "stream", contentType: "text/event-stream", writes };
}

before(async () => {
  upstream = await startScriptedUpstream();
  tandem = await startTandem(
    {
      providers: {
        up: {
          kind: "openai",
          baseUrl: `${upstream.url}/v1`,
          apiKeys: ["env:UP"],
          responses: "only",
          local: false,
          models: { gpt: { id: "gpt-up" } },
        },
      },
      routes: { auto: { tiers: ["up/gpt"] } },
    },
    { env: { UP: "sk-up" } },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

const Answer = z.object({ city: z.string() });

describe("a refusal reaching a chat completions client", () => {
  it("not streamed: message.refusal holds it and content is null; parse gives parsed null", async () => {
    upstream.script((request) => refusalAnswer(request.body.stream === true));
    const completion = await client.chat.completions.create({ model: "up/gpt", messages: [{ role: "user", content: "x" }] });
    const message = completion.choices[0]?.message;
    assert.equal(message?.refusal, REFUSAL);
    assert.equal(message?.content, null);
    const parsed = await client.chat.completions.parse({
      model: "up/gpt",
      messages: [{ role: "user", content: "x" }],
      response_format: zodResponseFormat(Answer, "answer"),
    });
    assert.equal(parsed.choices[0]?.message.refusal, REFUSAL);
    assert.equal(parsed.choices[0]?.message.parsed, null);
  });

  it("streamed: delta.refusal carries it; the SDK's stream helper reports refusal.done and parses nothing", async () => {
    upstream.script((request) => refusalAnswer(request.body.stream === true));
    const stream = client.chat.completions.stream({
      model: "up/gpt",
      messages: [{ role: "user", content: "x" }],
      response_format: zodResponseFormat(Answer, "answer"),
    });
    const refusals: string[] = [];
    stream.on("refusal.done", (event) => refusals.push(event.refusal));
    const final = await stream.finalChatCompletion();
    assert.deepEqual(refusals, [REFUSAL]);
    assert.equal(final.choices[0]?.message.refusal, REFUSAL);
    assert.equal(final.choices[0]?.message.parsed, null);
    assert.ok(!final.choices[0]?.message.content);
  });

  it("text and then a refusal: the text in content, the refusal in refusal (streamed and not)", async () => {
    upstream.script((request) => refusalAnswer(request.body.stream === true, "Well."));
    const whole = await client.chat.completions.create({ model: "up/gpt", messages: [{ role: "user", content: "x" }] });
    assert.equal(whole.choices[0]?.message.content, "Well.");
    assert.equal(whole.choices[0]?.message.refusal, REFUSAL);
    const final = await client.chat.completions
      .stream({ model: "up/gpt", messages: [{ role: "user", content: "x" }] })
      .finalChatCompletion();
    assert.equal(final.choices[0]?.message.content, "Well.");
    assert.equal(final.choices[0]?.message.refusal, REFUSAL);
    // Sent back as history, the answer reads the same to the next model: its text and its refusal.
    upstream.clear();
    upstream.script((request) => refusalAnswer(request.body.stream === true));
    const message = whole.choices[0]?.message as OpenAI.ChatCompletionAssistantMessageParam;
    await client.chat.completions.create({
      model: "up/gpt",
      messages: [{ role: "user", content: "x" }, message, { role: "user", content: "Why?" }],
    });
    const sent = upstream.requests[0]?.raw ?? "";
    assert.ok(sent.includes("Well.") && sent.includes(JSON.stringify(REFUSAL).slice(1, -1)), sent);
  });
});
