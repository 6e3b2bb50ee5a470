/** The legacy completions `logprobs` shape from canonical tokens: offsets, and the top tokens as object keys. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CompletionLogprobsWriter } from "../../../src/dialects/openai/render-completion-logprobs.js";

describe("CompletionLogprobsWriter", () => {
  it("counts offsets in characters from the prompt's end, across calls, as a stream's chunks come", () => {
    // "😀" is one character (two UTF-16 units): offsets count characters, as OpenAI's do.
    const writer = new CompletionLogprobsWriter("hi 😀");
    const first = writer.next([{ token: "é", logprob: -1, topLogprobs: [] }]);
    const second = writer.next([
      { token: "😀!", logprob: -2, topLogprobs: [] },
      { token: " ok", logprob: -3, topLogprobs: [] },
    ]);
    assert.deepEqual(first.text_offset, [4]);
    assert.deepEqual(second.text_offset, [5, 7]);
    assert.deepEqual(second.tokens, ["😀!", " ok"]);
    assert.deepEqual(second.token_logprobs, [-2, -3]);
  });

  it("moves on from a character split across tokens once its last byte comes", () => {
    const writer = new CompletionLogprobsWriter("ab");
    const split = [0xf0, 0x9f, 0x98, 0x80].map((byte) => ({
      token: `\\x${byte.toString(16)}`,
      bytes: [byte],
      logprob: -1,
      topLogprobs: [],
    }));
    const first = writer.next(split.slice(0, 2));
    const second = writer.next([...split.slice(2), { token: "!", logprob: -1, topLogprobs: [] }]);
    assert.deepEqual([...first.text_offset, ...second.text_offset], [2, 2, 2, 2, 3]);
  });

  it("keeps the most likely first, adds the chosen token when not among them, and takes any token as a key", () => {
    const { top_logprobs } = new CompletionLogprobsWriter("").next([
      {
        token: "constructor",
        logprob: -3,
        topLogprobs: [
          { token: "__proto__", logprob: -1 },
          { token: "a", logprob: -2 },
        ],
      },
    ]);
    assert.equal(JSON.stringify(top_logprobs), '[{"__proto__":-1,"a":-2,"constructor":-3}]');
  });
});
