/**
 * Redaction on the same-wire path for OpenAI chat chunks and Ollama lines (see frame-restorer.test.ts
 * for Anthropic's events): a placeholder split across frames is restored whole in each streamed text
 * field and in tool-call arguments (kept valid JSON), what is held is sent before the finish, and a
 * frame without placeholders passes as it came.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StreamEvent } from "../../src/core/index.js";
import { FrameRestorer } from "../../src/privacy/frame-restorer.js";
import { Redaction } from "../../src/privacy/index.js";

type Frame = Extract<StreamEvent, { type: "frame" }>;
type Json = Record<string, unknown>;

const EMAIL = 'a"b@example.org';
const redaction = new Redaction([{ kind: "email", value: EMAIL }]);
const placeholder = redaction.placeholderFor(EMAIL)!;
const half = Math.floor(placeholder.length / 2);

function chunk(delta: Json, finish: string | null = null): Frame {
  return {
    type: "frame",
    data: JSON.stringify({
      id: "c1",
      object: "chat.completion.chunk",
      model: "m",
      choices: [{ index: 0, delta, finish_reason: finish }],
    }),
  };
}

function deltas(frames: Frame[]): Json[] {
  return frames.map((f) => (JSON.parse(f.data) as { choices: Array<{ delta: Json }> }).choices[0]?.delta ?? {});
}

describe("OpenAI chat chunks", () => {
  it("restores content and reasoning_content split across chunks, flushing held text before the finish chunk", () => {
    const restorer = new FrameRestorer(redaction);
    const out = [
      ...restorer.push(chunk({ reasoning_content: `think ${placeholder.slice(0, half)}` })),
      ...restorer.push(chunk({ reasoning_content: placeholder.slice(half) })),
      ...restorer.push(chunk({ content: `to ${placeholder.slice(0, half)}` })),
      ...restorer.push(chunk({}, "stop")),
    ];
    const all = deltas(out);
    assert.equal(all.map((d) => d.reasoning_content ?? "").join(""), `think ${EMAIL}`);
    assert.equal(all.map((d) => d.content ?? "").join(""), `to ${placeholder.slice(0, half)}`);
    assert.equal(
      (JSON.parse(out.at(-1)!.data) as { choices: Array<{ finish_reason: string }> }).choices[0]?.finish_reason,
      "stop",
    );
  });

  it("keeps tool-call arguments valid JSON when the value has quotes", () => {
    const restorer = new FrameRestorer(redaction);
    const args = `{"to":"${placeholder}"}`;
    const out = [
      ...restorer.push(
        chunk({ tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "send", arguments: "" } }] }),
      ),
      ...restorer.push(chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(0, 9) } }] })),
      ...restorer.push(chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(9) } }] })),
      ...restorer.push(chunk({}, "tool_calls")),
    ];
    const text = deltas(out)
      .map((d) => (d.tool_calls as Array<{ function: { arguments?: string } }> | undefined)?.[0]?.function.arguments ?? "")
      .join("");
    assert.deepEqual(JSON.parse(text), { to: EMAIL });
  });

  it("passes a chunk without placeholders as it came, and [DONE]", () => {
    const restorer = new FrameRestorer(redaction);
    const plain = chunk({ content: "hello" });
    assert.equal(restorer.push(plain)[0], plain);
    const done: Frame = { type: "frame", data: "[DONE]" };
    assert.equal(restorer.push(done)[0], done);
  });
});

describe("Ollama lines", () => {
  const line = (fields: Json): Frame => ({
    type: "frame",
    data: JSON.stringify({ model: "m", created_at: "t", ...fields }),
  });

  it("restores message content split across lines and what is held comes before the done line", () => {
    const restorer = new FrameRestorer(redaction);
    const out = [
      ...restorer.push(line({ message: { role: "assistant", content: `to ${placeholder.slice(0, half)}` }, done: false })),
      ...restorer.push(line({ message: { role: "assistant", content: placeholder.slice(half, half + 1) }, done: false })),
      ...restorer.push(line({ message: { role: "assistant", content: "" }, done: true, eval_count: 3 })),
    ];
    const parsed = out.map((f) => JSON.parse(f.data) as { message: { content: string }; done: boolean });
    assert.equal(parsed.map((p) => p.message.content).join(""), `to ${placeholder.slice(0, half + 1)}`);
    assert.equal(parsed.at(-1)?.done, true);
    assert.equal(parsed.filter((p) => p.done).length, 1);
  });

  it("restores /api/generate's response and a whole tool call in place", () => {
    const restorer = new FrameRestorer(redaction);
    const out = [
      ...restorer.push(line({ response: placeholder.slice(0, half), done: false })),
      ...restorer.push(line({ response: placeholder.slice(half), done: false })),
      ...restorer.push(
        line({
          message: {
            role: "assistant",
            content: "",
            tool_calls: [{ function: { name: "send", arguments: { to: placeholder } } }],
          },
          done: false,
        }),
      ),
    ];
    const parsed = out.map((f) => JSON.parse(f.data) as Json);
    assert.equal(parsed.map((p) => (p.response as string | undefined) ?? "").join(""), EMAIL);
    assert.deepEqual(
      (parsed.at(-1)?.message as { tool_calls: Array<{ function: { arguments: Json } }> }).tool_calls[0]?.function.arguments,
      { to: EMAIL },
    );
  });
});
