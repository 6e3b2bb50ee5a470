/**
 * What the dialect writes has the shape of what api.openai.com writes (test/fixtures/openai): the same
 * keys in the same places, nothing OpenAI would not send. Optional extras OpenAI adds (service_tier,
 * system_fingerprint, annotations, completion_tokens_details, obfuscation) may be left out (or kept
 * where OpenAI's answer has them).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import type { ChatResult, StreamEvent, TokenLogprob } from "../../../src/core/index.js";
import { ChatCompletionStreamRenderer, renderChatCompletion } from "../../../src/dialects/openai/index.js";
import { readChunkFixture } from "../../support/fake-openai-upstream.js";

const OPTIONAL = new Set([
  "service_tier",
  "system_fingerprint",
  "annotations",
  "completion_tokens_details",
  "obfuscation",
  "audio_tokens",
]);
const meta = { route: undefined, target: "fake/model-1", attempts: 1, degraded: undefined };

/** Asserts that `ours` has exactly the keys of `theirs` (minus optional extras), recursively for objects. */
function assertSameShape(ours: unknown, theirs: unknown, path: string): void {
  if (theirs === null || typeof theirs !== "object" || Array.isArray(theirs)) {
    if (Array.isArray(theirs) && Array.isArray(ours) && theirs[0] !== undefined && ours[0] !== undefined) {
      assertSameShape(ours[0], theirs[0], `${path}[0]`);
    }
    return;
  }
  assert.ok(ours !== null && typeof ours === "object", `${path}: expected an object`);
  const wanted = Object.keys(theirs).filter((k) => !OPTIONAL.has(k));
  // An optional extra may be there too, where OpenAI's answer has it.
  const given = Object.keys(ours).filter((k) => !(OPTIONAL.has(k) && k in theirs));
  assert.deepEqual(given.sort(), wanted.sort(), `${path}: keys`);
  for (const key of wanted) {
    assertSameShape((ours as Record<string, unknown>)[key], (theirs as Record<string, unknown>)[key], `${path}.${key}`);
  }
}

describe("wire shapes match captured OpenAI answers", () => {
  it("chat.completion", () => {
    const fixture = JSON.parse(readFileSync(new URL("../../fixtures/openai/chat-completion.json", import.meta.url), "utf8"));
    const result: ChatResult = {
      id: undefined,
      model: undefined,
      text: "Hi",
      toolCalls: [],
      finishReason: "stop",
      rawFinishReason: "stop",
      stopSequence: undefined,
      usage: { inputTokens: 1, outputTokens: 1 },
    };
    assertSameShape(renderChatCompletion(result, meta), fixture, "completion");
  });

  it("chat.completion.chunk stream with include_usage", () => {
    const fixture = readChunkFixture("chat-text.chunks.txt")
      .filter((line) => line !== "[DONE]")
      .map((line) => JSON.parse(line));
    const renderer = new ChatCompletionStreamRenderer("fake/model-1", true);
    const events: StreamEvent[] = [
      { type: "start" },
      { type: "text-delta", text: "Holiday" },
      { type: "text-delta", text: " Name" },
      { type: "usage", usage: { inputTokens: 16, outputTokens: 6 } },
      { type: "finish", reason: "stop" },
    ];
    const text = events.map((e) => renderer.event(e)).join("") + renderer.end();
    const frames = text.split("\n\n").filter((f) => f !== "");
    assert.equal(frames.at(-1), "data: [DONE]");
    const ours = frames.slice(0, -1).map((f) => JSON.parse(f.slice("data: ".length)));
    // role chunk, two content chunks, finish chunk, usage chunk: the fixture has the same sequence.
    const theirs = [fixture[0], fixture[1], fixture[2], fixture.at(-2), fixture.at(-1)];
    assert.equal(ours.length, theirs.length);
    ours.forEach((chunk, i) => {
      assertSameShape(chunk, theirs[i], `chunk ${i}`);
    });
    assert.deepEqual(ours[0].choices[0].delta, theirs[0].choices[0].delta);
    assert.deepEqual(ours[3].choices[0].delta, {});
  });
});

describe("chat.completion.chunk with token logprobs", () => {
  const tokens: TokenLogprob[] = [
    { token: " à", logprob: -0.5, bytes: [32, 195, 160], topLogprobs: [{ token: " à", logprob: -0.5, bytes: [32, 195, 160] }] },
    // No bytes from the upstream (OpenAI's null): null, as OpenAI writes it.
    { token: "<|x|>", logprob: -1, topLogprobs: [] },
  ];
  /** The text chunk a renderer writes for one text-delta (after the role chunk), with its id and created. */
  function textChunk(asked: boolean, event: StreamEvent): { frame: string; id: string; created: number } {
    const renderer = new ChatCompletionStreamRenderer("fake/model-1", true, asked);
    const [role, frame] = renderer.event(event).split(/(?<=\n\n)/);
    const { id, created } = JSON.parse((role ?? "").slice("data: ".length));
    return { frame: frame ?? "", id, created };
  }

  it("asked: the text chunk carries {content, refusal: null}, written as the whole chunk object serialises; otherwise byte for byte the fast path's", () => {
    const asked = textChunk(true, { type: "text-delta", text: " à", logprobs: tokens });
    const chunk = {
      id: asked.id,
      object: "chat.completion.chunk",
      created: asked.created,
      model: "fake/model-1",
      choices: [
        {
          index: 0,
          delta: { content: " à" },
          logprobs: {
            content: [
              {
                token: " à",
                logprob: -0.5,
                bytes: [32, 195, 160],
                top_logprobs: [{ token: " à", logprob: -0.5, bytes: [32, 195, 160] }],
              },
              { token: "<|x|>", logprob: -1, bytes: null, top_logprobs: [] },
            ],
            refusal: null,
          },
          finish_reason: null,
        },
      ],
      usage: null,
    };
    assert.equal(asked.frame, `data: ${JSON.stringify(chunk)}\n\n`);
    // Tokens before their text (a character split across them): a chunk with empty content.
    const early = textChunk(true, { type: "text-delta", text: "", logprobs: tokens });
    assert.equal(JSON.parse(early.frame.slice("data: ".length)).choices[0].delta.content, "");
    // Not asked (whatever the target reported), asked but none reported, or a refusal's (in its own
    // field, `delta.refusal`): without logprobs.
    for (const [label, on, event, field] of [
      ["not asked", false, { type: "text-delta", text: " à", logprobs: tokens }, "content"],
      ["none reported", true, { type: "text-delta", text: " à" }, "content"],
      ["a refusal's", true, { type: "text-delta", text: " à", refusal: true, logprobs: tokens }, "refusal"],
    ] as const) {
      const plain = textChunk(on, event);
      const expected = `data: {"id":"${plain.id}","object":"chat.completion.chunk","created":${plain.created},"model":"fake/model-1","choices":[{"index":0,"delta":{"${field}":" à"},"logprobs":null,"finish_reason":null}],"usage":null}\n\n`;
      assert.equal(plain.frame, expected, label);
    }
    assert.equal(
      new ChatCompletionStreamRenderer("m", false, false).event({ type: "text-delta", text: "", logprobs: tokens }),
      "",
    );
  });
});
