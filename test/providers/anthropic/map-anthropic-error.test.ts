/** Anthropic errors are mapped from `error.type`; "prompt is too long" is read only inside invalid_request_error. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { anthropicStreamError, mapAnthropicErrorResponse } from "../../../src/providers/anthropic/index.js";
import { errorBody } from "../../support/fake-anthropic-upstream.js";

describe("mapAnthropicErrorResponse", () => {
  it("maps every documented error type", () => {
    const expected: Record<string, string> = {
      invalid_request_error: "invalid_request",
      authentication_error: "authentication",
      permission_error: "permission_denied",
      not_found_error: "not_found",
      request_too_large: "payload_too_large",
      rate_limit_error: "rate_limited",
      api_error: "upstream_error",
      overloaded_error: "overloaded",
      timeout_error: "timeout",
    };
    for (const [type, code] of Object.entries(expected)) {
      assert.equal(mapAnthropicErrorResponse(400, errorBody(type))?.code, code, type);
    }
  });

  it("makes a spent credit balance a rate limit not worth retrying on that key", () => {
    assert.deepEqual(mapAnthropicErrorResponse(402, errorBody("billing_error")), { code: "rate_limited", retryable: false });
  });

  it("tells a prompt too long from other invalid requests, and only within that type", () => {
    const long = errorBody("invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum");
    assert.equal(mapAnthropicErrorResponse(400, long)?.code, "context_length_exceeded");
    // Input and the room asked for the answer over the window: as much an overflow (a bigger window takes it).
    const withRoom = errorBody(
      "invalid_request_error",
      "input length and `max_tokens` exceed context limit: 198000 + 8192 > 200000, decrease input length or `max_tokens` and try again",
    );
    assert.equal(mapAnthropicErrorResponse(400, withRoom)?.code, "context_length_exceeded");
    const elsewhere = errorBody("api_error", "prompt is too long: 210000 tokens > 200000 maximum");
    assert.equal(mapAnthropicErrorResponse(500, elsewhere)?.code, "upstream_error");
  });

  it("leaves bodies that are not Anthropic's to the status", () => {
    assert.equal(mapAnthropicErrorResponse(502, undefined), undefined);
    assert.equal(mapAnthropicErrorResponse(400, { error: "text" }), undefined);
    assert.equal(mapAnthropicErrorResponse(400, errorBody("some_future_type")), undefined);
  });
});

describe("anthropicStreamError", () => {
  it("keeps the type's meaning and status inside a 200 stream", () => {
    const overloaded = anthropicStreamError("overloaded_error", "Overloaded", "c/m");
    assert.equal(overloaded.code, "overloaded");
    assert.equal(overloaded.status, 529);
    assert.equal(overloaded.retryable, true);
    assert.equal(anthropicStreamError("unknown_error", "?", "c/m").code, "upstream_error");
  });
});
