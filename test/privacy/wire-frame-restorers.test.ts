/**
 * Redaction on the same-wire path for OpenAI chat chunks, Ollama lines and Responses events (see frame-restorer.test.ts
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

  it("restores a legacy function_call's arguments split across chunks, kept valid JSON, what is held before the finish", () => {
    const restorer = new FrameRestorer(redaction);
    const args = `{"to":"${placeholder}"}`;
    const out = [
      ...restorer.push(chunk({ role: "assistant", content: null, function_call: { name: "send", arguments: "" } })),
      // Split inside the placeholder.
      ...restorer.push(chunk({ function_call: { arguments: args.slice(0, 7 + half) } })),
      ...restorer.push(chunk({ function_call: { arguments: args.slice(7 + half) } })),
      ...restorer.push(chunk({}, "function_call")),
    ];
    const joined = deltas(out)
      .map((d) => (d.function_call as { arguments?: string } | undefined)?.arguments ?? "")
      .join("");
    assert.deepEqual(JSON.parse(joined), { to: EMAIL });
    assert.equal(
      (JSON.parse(out.at(-1)!.data) as { choices: Array<{ finish_reason: string }> }).choices[0]?.finish_reason,
      "function_call",
    );
  });

  it("keeps a whole completion's tool-call arguments valid JSON when the value has quotes (JSON text in a JSON string)", () => {
    const restorer = new FrameRestorer(redaction);
    const completion = {
      object: "chat.completion",
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: `for ${placeholder}`,
            tool_calls: [{ id: "c1", type: "function", function: { name: "send", arguments: `{"to":"${placeholder}"}` } }],
          },
          finish_reason: "tool_calls",
        },
      ],
    };
    const [out] = restorer.push({ type: "frame", data: JSON.stringify(completion), whole: true });
    const message = (JSON.parse(out!.data) as typeof completion).choices[0]!.message;
    assert.equal(message.content, `for ${EMAIL}`);
    assert.deepEqual(JSON.parse(message.tool_calls[0]!.function.arguments), { to: EMAIL });
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

describe("Responses events", () => {
  let sequence = 0;
  const event = (type: string, fields: Json): Frame => ({
    type: "frame",
    event: type,
    data: JSON.stringify({ type, sequence_number: sequence++, ...fields }),
  });
  const textDelta = (delta: string) =>
    event("response.output_text.delta", { item_id: "msg_1", output_index: 0, content_index: 0, delta, logprobs: [] });
  const parsed = (frames: Frame[]) => frames.map((f) => JSON.parse(f.data) as Json & { type: string });

  it("restores a message's text split across deltas, the held tail sent as a delta before its .done, whose text is restored", () => {
    const restorer = new FrameRestorer(redaction);
    const out = parsed([
      ...restorer.push(textDelta(`Mail ${placeholder.slice(0, 3)}`)),
      ...restorer.push(textDelta(placeholder.slice(3, half))),
      ...restorer.push(textDelta(`${placeholder.slice(half)} now, ${placeholder.slice(0, half)}`)),
      ...restorer.push(
        event("response.output_text.done", {
          item_id: "msg_1",
          output_index: 0,
          content_index: 0,
          text: `Mail ${placeholder} now, ${placeholder.slice(0, half)}`,
          logprobs: [],
        }),
      ),
    ]);
    const deltas = out.filter((e) => e.type === "response.output_text.delta");
    assert.equal(deltas.map((e) => e.delta).join(""), `Mail ${EMAIL} now, ${placeholder.slice(0, half)}`);
    // A delta whose text is all held is left out; the one carrying the tail keeps the event's fields.
    assert.ok(deltas.every((e) => e.item_id === "msg_1" && e.output_index === 0 && e.content_index === 0));
    assert.equal(out.at(-1)?.type, "response.output_text.done");
    assert.equal(out.at(-1)?.text, `Mail ${EMAIL} now, ${placeholder.slice(0, half)}`);
  });

  it("keeps a function call's arguments valid JSON when the value has quotes, and restores the item and the final response in place", () => {
    const restorer = new FrameRestorer(redaction);
    const args = `{"to":"${placeholder}"}`;
    const call = (fields: Json) => ({ output_index: 1, item_id: "fc_1", ...fields });
    const out = parsed([
      ...restorer.push(event("response.function_call_arguments.delta", call({ delta: args.slice(0, 9) }))),
      ...restorer.push(event("response.function_call_arguments.delta", call({ delta: args.slice(9) }))),
      ...restorer.push(event("response.function_call_arguments.done", call({ arguments: args }))),
      ...restorer.push(
        event("response.output_item.done", {
          output_index: 1,
          item: { id: "fc_1", type: "function_call", name: "send", arguments: args, call_id: "c1", status: "completed" },
        }),
      ),
      ...restorer.push(
        event("response.completed", {
          response: { object: "response", output: [{ type: "function_call", arguments: args }] },
        }),
      ),
    ]);
    const streamed = out
      .filter((e) => e.type === "response.function_call_arguments.delta")
      .map((e) => e.delta)
      .join("");
    assert.deepEqual(JSON.parse(streamed), { to: EMAIL });
    for (const e of out) assert.ok(!JSON.stringify(e).includes(placeholder), `${e.type} still has the placeholder`);
    assert.deepEqual(JSON.parse(String((out[2] as Json).arguments)), { to: EMAIL });
  });

  it("sends what is held before the item ends or the response does when no .done came, and on flush", () => {
    for (const end of [
      event("response.output_item.done", { output_index: 0, item: { id: "msg_1", type: "message" } }),
      event("response.completed", { response: { object: "response", output: [] } }),
      undefined,
    ]) {
      const restorer = new FrameRestorer(redaction);
      const out = [...restorer.push(textDelta(`to ${placeholder.slice(0, half)}`))];
      out.push(...(end === undefined ? restorer.flush() : restorer.push(end)));
      const all = parsed(out);
      assert.equal(
        all
          .filter((e) => e.type === "response.output_text.delta")
          .map((e) => e.delta)
          .join(""),
        `to ${placeholder.slice(0, half)}`,
      );
      assert.equal(out.filter((f) => f.event === "response.output_text.delta").length, 2, "the text, then the held tail");
      if (end !== undefined) assert.equal(all.at(-1)?.type, JSON.parse(end.data).type);
    }
  });

  it("passes an event without placeholders as it came", () => {
    const restorer = new FrameRestorer(redaction);
    const plain = textDelta("hello");
    assert.equal(restorer.push(plain)[0], plain);
    const created = event("response.created", { response: { object: "response", output: [] } });
    assert.equal(restorer.push(created)[0], created);
  });
});
