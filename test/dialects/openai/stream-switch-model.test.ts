/**
 * A streamed answer that goes on on another target (a mid-stream switch, or a tool loop's turn a
 * private tool result kept on the local tier) names that target as the `model` of every chunk from
 * the switch on, as the whole answer's `model` does: the openai SDK's stream helper takes the
 * completion's model from the chunks.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StreamEvent } from "../../../src/core/index.js";
import { ChatCompletionStreamRenderer } from "../../../src/dialects/openai/index.js";
import { CompletionStreamRenderer } from "../../../src/dialects/openai/render-completion.js";

const EVENTS: StreamEvent[] = [
  { type: "text-delta", text: "Looking" },
  {
    type: "switch",
    from: "cloud/m1",
    to: "local/st",
    reason: "the tool calls: the tool loop's turn after the tool calls went to local/st",
  },
  { type: "text-delta", text: "Found it" },
  { type: "usage", usage: { inputTokens: 3, outputTokens: 2 } },
  { type: "finish", reason: "stop" },
];

/** The `model` of each `data:` chunk, by whether it came before or after the switch comment. */
function modelsAround(wire: string): { before: string[]; after: string[] } {
  const [before = "", after = ""] = wire.split(/^: tandem switched from .*$/m);
  const models = (frames: string) =>
    frames
      .split("\n\n")
      .filter((frame) => frame.startsWith("data: {"))
      .map((frame) => (JSON.parse(frame.slice(6)) as { model: string }).model);
  return { before: models(before), after: models(after) };
}

describe("the model of a stream's chunks after a switch", () => {
  for (const logprobs of [false, true]) {
    it(`chat completion chunks name the target that wrote them${logprobs ? " (with logprobs)" : ""}`, () => {
      const renderer = new ChatCompletionStreamRenderer("cloud/m1", true, logprobs);
      const wire = EVENTS.map((event) => renderer.event(event)).join("") + renderer.end();
      const { before, after } = modelsAround(wire);
      assert.deepEqual(before, ["cloud/m1", "cloud/m1"], wire);
      // The text, the finish and the usage chunk are the local target's.
      assert.deepEqual(after, ["local/st", "local/st", "local/st"], wire);
    });
  }

  it("legacy completion chunks name the target that wrote them", () => {
    const renderer = new CompletionStreamRenderer("cloud/m1", true);
    const wire = EVENTS.map((event) => renderer.event(event)).join("") + renderer.end();
    const { before, after } = modelsAround(wire);
    assert.deepEqual(before, ["cloud/m1"], wire);
    assert.deepEqual(after, ["local/st", "local/st", "local/st"], wire);
  });
});
