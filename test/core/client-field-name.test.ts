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
    assert.equal(clientFieldName("stop", undefined), "stop");
  });
});
