import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clientFieldName } from "../../src/core/index.js";

describe("clientFieldName", () => {
  it("names a setting as the client's wire does, keeping what follows the field", () => {
    assert.equal(clientFieldName("stop", "anthropic-messages"), "stop_sequences");
    assert.equal(clientFieldName("user", "anthropic-messages"), "metadata.user_id");
    assert.equal(clientFieldName("top_k", "anthropic-messages"), "top_k");
    assert.equal(clientFieldName("seed", "ollama-chat"), "options.seed");
    assert.equal(clientFieldName("temperature (1 sent instead)", "ollama-generate"), "options.temperature (1 sent instead)");
    assert.equal(
      clientFieldName("tool_choice (only the named tool offered instead)", "ollama-chat"),
      "tool_choice (only the named tool offered instead)",
    );
    assert.equal(clientFieldName("stop", "openai-chat"), "stop");
    // An effort level a wire lacks, by each client's own field.
    const effort = "effort max (xhigh sent instead)";
    assert.equal(clientFieldName(effort, "anthropic-messages"), "output_config.effort max (xhigh sent instead)");
    assert.equal(clientFieldName(effort, "ollama-chat"), "think max (xhigh sent instead)");
    assert.equal(clientFieldName(effort, "openai-responses"), "reasoning.effort max (xhigh sent instead)");
    assert.equal(clientFieldName(effort, "openai-chat"), "reasoning_effort max (xhigh sent instead)");
    assert.equal(clientFieldName(effort, undefined), "reasoning_effort max (xhigh sent instead)");
    // The field of a body tandem built keeps its name (an Anthropic client's budget is no effort of its own).
    assert.equal(clientFieldName("reasoning_effort", "anthropic-messages"), "reasoning_effort");
    // A phrase that starts with a field's name is no field.
    assert.equal(
      clientFieldName("stop sequences after the first 4 (1 of 5)", "anthropic-messages"),
      "stop sequences after the first 4 (1 of 5)",
    );
    assert.equal(clientFieldName("stop", undefined), "stop");
  });
});
