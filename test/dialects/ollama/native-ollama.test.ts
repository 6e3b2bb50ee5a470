/**
 * The whole Ollama answer for a client that did not stream, from the lines the provider tapped: it is
 * put together from the lines as the provider parsed them (shared with the router's frames), which it
 * never changes, and a whole answer is copied before its model is set.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JsonText } from "../../../src/core/index.js";
import { nativeOllamaAnswer } from "../../../src/dialects/ollama/native-ollama.js";
import { tapOllamaLines, tapOllamaWhole } from "../../../src/providers/ollama/tap-ollama.js";
import { deepFreeze, framesOf } from "../../support/frames.js";

const META = { target: "up/llama" };
const base = { model: "llama-up", created_at: "2026-12-03T19:00:00Z" };

/** The answer as its client reads it: a JsonText (an answer with tool calls) parsed. */
function answerOf(frames: Parameters<typeof nativeOllamaAnswer>[0]): unknown {
  const answer = nativeOllamaAnswer(frames, META);
  return answer instanceof JsonText ? JSON.parse(answer.text) : answer;
}

/** The lines as an upstream's reads give them: here one line per read. */
async function* lines(values: object[]): AsyncGenerator<string[]> {
  for (const value of values) yield [JSON.stringify(value)];
}

describe("the lines the provider parsed, shared with the dialect", () => {
  it("/api/chat: put together from the parsed lines, which stay as they came", async () => {
    const call = { function: { name: "f", arguments: { a: 1 } } };
    const frames = await framesOf(
      tapOllamaLines(
        lines([
          { ...base, message: { role: "assistant", content: "", thinking: "Hm" }, done: false },
          { ...base, message: { role: "assistant", content: "Hel", thinking: "." }, done: false },
          { ...base, message: { role: "assistant", content: "lo", tool_calls: [call] }, done: false },
          { ...base, message: { role: "assistant", content: "" }, done: true, done_reason: "stop", eval_count: 3 },
        ]),
        "up/llama",
        "ollama-chat",
      ),
    );
    assert.equal(frames.length, 4);
    for (const frame of frames) {
      assert.deepEqual(frame.json, JSON.parse(frame.data), "the frame carries what its data says");
      deepFreeze(frame.json);
    }
    const expected = {
      ...base,
      model: "up/llama",
      message: { role: "assistant", content: "Hello", thinking: "Hm.", tool_calls: [call] },
      done: true,
      done_reason: "stop",
      eval_count: 3,
    };
    assert.deepEqual(answerOf(frames), expected);
    assert.deepEqual(answerOf(frames), expected, "the second assembly sees the lines as they came");
  });

  it("/api/generate: the responses concatenated, the lines unchanged", async () => {
    const frames = await framesOf(
      tapOllamaLines(
        lines([
          { ...base, response: "Hel", done: false },
          { ...base, response: "lo", done: true, context: [1, 2] },
        ]),
        "up/llama",
        "ollama-generate",
      ),
    );
    for (const frame of frames) deepFreeze(frame.json);
    assert.deepEqual(nativeOllamaAnswer(frames, META), {
      ...base,
      model: "up/llama",
      response: "Hello",
      done: true,
      context: [1, 2],
    });
    assert.equal((frames[0]?.json as { response: string }).response, "Hel");
  });

  it("a long answer's logprobs and tool calls are appended, not copied for every line", async () => {
    // Copying the list for every line is quadratic: 50,000 lines held the server's one thread for
    // half a minute; appending takes milliseconds.
    const count = 50_000;
    const values: object[] = [];
    for (let i = 0; i < count; i++) {
      const token = `t${i}`;
      const message = { role: "assistant", content: token, tool_calls: [{ function: { name: token, arguments: {} } }] };
      values.push({ ...base, message, done: false, logprobs: [{ token, logprob: -1 }] });
    }
    values.push({ ...base, message: { role: "assistant", content: "" }, done: true, done_reason: "stop" });
    const frames = await framesOf(tapOllamaLines(lines(values), "up/llama", "ollama-chat"));
    for (const frame of frames) deepFreeze(frame.json);
    const started = performance.now();
    const answer = answerOf(frames) as {
      message: { tool_calls: { function: { name: string } }[] };
      logprobs: { token: string }[];
    };
    const ms = performance.now() - started;
    assert.ok(ms < 5000, `put together in ${Math.round(ms)} ms`);
    assert.equal(answer.logprobs.length, count);
    assert.equal(answer.logprobs[count - 1]?.token, `t${count - 1}`);
    assert.equal(answer.message.tool_calls.length, count);
    assert.equal(answer.message.tool_calls[1]?.function.name, "t1");
  });

  it("a whole answer is copied before its model is set", async () => {
    const json = deepFreeze({ ...base, message: { role: "assistant", content: "Hi" }, done: true, done_reason: "stop" });
    const frames = await framesOf(tapOllamaWhole(json, "up/llama", "ollama-chat"));
    assert.equal(frames.length, 1);
    assert.equal(frames[0]?.json, json);
    assert.deepEqual(nativeOllamaAnswer(frames, META), { ...json, model: "up/llama" });
    assert.equal(json.model, "llama-up");
  });
});
