/** Ollama sends no error codes: its errors are read from their words, and the status. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mapOllamaErrorResponse, mapOllamaStreamError } from "../../../src/providers/ollama/index.js";

describe("Ollama error mapping", () => {
  it("reads a 400 about the context window as a conversation too long", () => {
    assert.equal(
      mapOllamaErrorResponse(400, undefined, "input length exceeds maximum context length")?.code,
      "context_length_exceeded",
    );
    assert.equal(mapOllamaErrorResponse(400, undefined, "invalid request"), undefined);
    assert.equal(mapOllamaErrorResponse(404, undefined, 'model "x" not found, try pulling it first'), undefined);
  });

  it("reads a 503 for a full queue as overloaded, and any other 503 by its status", () => {
    const busy = "server busy, please try again.  maximum pending requests exceeded";
    assert.equal(mapOllamaErrorResponse(503, undefined, busy)?.code, "overloaded");
    assert.equal(mapOllamaErrorResponse(503, undefined, "no healthy runner"), undefined);
  });

  it("reads a mid-stream error line's words", () => {
    assert.equal(mapOllamaStreamError("exceeds context length", "o/m").code, "context_length_exceeded");
    assert.equal(mapOllamaStreamError("you have reached your usage limit", "o/m").code, "rate_limited");
    assert.equal(mapOllamaStreamError("unauthorized", "o/m").code, "authentication");
    const crash = mapOllamaStreamError("an error was encountered while running the model: unexpected EOF", "o/m");
    assert.equal(crash.code, "upstream_error");
    assert.equal(crash.retryable, true);
  });
});
