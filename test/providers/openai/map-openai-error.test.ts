/** OpenAI errors are mapped from their `code` and `type` fields, not their words. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { gatewayErrorFromOpenAIError, mapOpenAIError, mapOpenAIErrorResponse } from "../../../src/providers/openai/index.js";

const BODIES = JSON.parse(readFileSync(new URL("../../fixtures/openai/errors.json", import.meta.url), "utf8")) as Record<
  string,
  { error: Record<string, unknown> }
>;

describe("mapOpenAIErrorResponse", () => {
  it("maps api.openai.com's recorded error bodies by code and type", () => {
    const expected: Record<string, string> = {
      "400": "invalid_request",
      "401": "authentication",
      "403": "permission_denied",
      "404": "not_found",
      "429": "rate_limited",
      "500": "upstream_error",
      "503": "overloaded",
    };
    for (const [status, code] of Object.entries(expected)) {
      assert.equal(mapOpenAIErrorResponse(Number(status), BODIES[status])?.code, code, status);
    }
    assert.equal(mapOpenAIErrorResponse(400, BODIES["400"])?.param, "temperature");
  });

  it("tells a conversation too long from any other 400 by its code", () => {
    const body = {
      error: {
        message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
        type: "invalid_request_error",
        param: "messages",
        code: "context_length_exceeded",
      },
    };
    assert.equal(mapOpenAIErrorResponse(400, body)?.code, "context_length_exceeded");
    // The same words with another code are that code's: the field decides, not the message.
    const other = { error: { ...body.error, code: "invalid_value" } };
    assert.equal(mapOpenAIErrorResponse(400, other)?.code, "invalid_request");
  });

  it("makes a spent quota a rate limit that is not worth retrying, unlike a busy minute", () => {
    const quota = {
      error: {
        message: "You exceeded your current quota, please check your plan and billing details.",
        type: "insufficient_quota",
        param: null,
        code: "insufficient_quota",
      },
    };
    // The upstream's own type and code travel with it, for an OpenAI client to see as they came.
    assert.deepEqual(mapOpenAIErrorResponse(429, quota), {
      code: "rate_limited",
      retryable: false,
      upstream: { wire: "openai", type: "insufficient_quota", code: "insufficient_quota" },
    });
    assert.equal(mapOpenAIErrorResponse(429, BODIES["429"])?.retryable, undefined);
  });

  it("keeps an upstream's null code as null beside its type, for an OpenAI client to see as it came", () => {
    // api.openai.com's own 500: `"type": "server_error", "code": null`.
    assert.deepEqual(mapOpenAIErrorResponse(500, BODIES["500"])?.upstream, { wire: "openai", type: "server_error", code: null });
  });

  it("reads a compatible server's context error from its words only when it sends no code", () => {
    // vLLM: `code` is the HTTP status, the type is its exception's name.
    const vllm = {
      object: "error",
      message: "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.",
      type: "BadRequestError",
      param: null,
      code: 400,
    };
    assert.equal(mapOpenAIErrorResponse(400, { error: vllm })?.code, "context_length_exceeded");
    assert.equal(mapOpenAIErrorResponse(400, { error: "maximum context length exceeded" })?.code, "context_length_exceeded");
    assert.equal(mapOpenAIErrorResponse(502, "<html>"), undefined, "a page that is not JSON: the status decides");
  });

  it("knows the overflow errors of vLLM (bare or wrapped), llama-server, LM Studio and Anthropic's words, as OpenAI's code", () => {
    const vllm = {
      object: "error",
      message:
        "This model's maximum context length is 2048 tokens. However, you requested 2100 tokens (2000 in the messages, 100 in the completion). Please reduce the length of the messages or completion.",
      type: "BadRequestError",
      param: null,
      code: 400,
    };
    // vLLM before 0.10 sends the object bare; later ones under `error`.
    assert.deepEqual(mapOpenAIErrorResponse(400, vllm), { code: "context_length_exceeded" });
    assert.deepEqual(mapOpenAIErrorResponse(400, { error: vllm }), { code: "context_length_exceeded" });
    const tooLarge =
      "'max_tokens' or 'max_completion_tokens' is too large: 8000. This model's maximum context length is 4096 tokens and your request has 2778 input tokens (8000 > 4096 - 2778).";
    assert.equal(mapOpenAIErrorResponse(400, { error: { ...vllm, message: tooLarge } })?.code, "context_length_exceeded");
    const llamaServer = {
      error: {
        code: 400,
        message: "the request exceeds the available context size, try increasing it",
        type: "exceed_context_size_error",
        n_prompt_tokens: 5000,
        n_ctx: 4096,
      },
    };
    // Its own type, not OpenAI's: an OpenAI client is told `context_length_exceeded` as OpenAI tells it.
    assert.deepEqual(mapOpenAIErrorResponse(400, llamaServer), { code: "context_length_exceeded" });
    const older = {
      error: {
        ...llamaServer.error,
        type: "invalid_request_error",
        message: "request (4476 tokens) exceeds the available context size (4096 tokens)",
      },
    };
    assert.deepEqual(mapOpenAIErrorResponse(400, older), { code: "context_length_exceeded" });
    const lmStudio =
      "Trying to keep the first 5000 tokens when context the overflows. However, the model is loaded with context length of only 4096 tokens, which is not enough.";
    assert.equal(mapOpenAIErrorResponse(400, { error: lmStudio })?.code, "context_length_exceeded");
    const anthropicWords =
      "input length and `max_tokens` exceed context limit: 198000 + 8192 > 200000, decrease input length or `max_tokens` and try again";
    assert.equal(
      mapOpenAIErrorResponse(400, { error: { message: anthropicWords, type: "invalid_request_error" } })?.code,
      "context_length_exceeded",
    );
    // An ordinary 400 of such a server stays one.
    assert.equal(mapOpenAIErrorResponse(400, { ...vllm, message: "temperature must be non-negative" })?.code, "invalid_request");
  });
});

describe("gatewayErrorFromOpenAIError (an error inside a 200)", () => {
  it("maps by fields and keeps the status a compatible server put in `code`", () => {
    const overloaded = gatewayErrorFromOpenAIError(
      { message: "busy", type: "server_error", code: "server_is_overloaded" },
      "o/m",
    );
    assert.equal(overloaded.code, "overloaded");
    assert.equal(overloaded.retryable, true);
    const numeric = gatewayErrorFromOpenAIError({ message: "boom", code: 502 }, "o/m");
    assert.equal(numeric.status, 502);
    assert.equal(numeric.code, "upstream_error");
    assert.equal(mapOpenAIError({ type: "server_error" }, undefined).code, "upstream_error");
    assert.equal(mapOpenAIError({ type: "invalid_request_error" }, 500).code, "upstream_error");
  });

  it("reads OpenAI's invalid_request_error type on a 401, 403, 404, 413 or 429 by its status", () => {
    const keyRefused = { type: "invalid_request_error", code: "mismatched_organization", param: null };
    assert.equal(mapOpenAIError(keyRefused, 401).code, "authentication");
    assert.equal(mapOpenAIError({ type: "invalid_request_error", code: null }, 401).code, "authentication");
    assert.equal(mapOpenAIError({ type: "invalid_request_error", code: null }, 403).code, "permission_denied");
    assert.equal(mapOpenAIError({ type: "invalid_request_error" }, 404).code, "not_found");
    assert.equal(mapOpenAIError({ type: "invalid_request_error" }, 413).code, "payload_too_large");
    assert.equal(mapOpenAIError({ type: "invalid_request_error" }, 429).code, "rate_limited");
    // Still the request's fault where the status says so.
    assert.equal(mapOpenAIError({ type: "invalid_request_error", param: "x" }, 400).code, "invalid_request");
    assert.equal(mapOpenAIError({ type: "invalid_request_error" }, 422).code, "invalid_request");
  });

  it("cuts a long message to an excerpt", () => {
    const error = gatewayErrorFromOpenAIError({ message: "x".repeat(5000), type: "server_error" }, "o/m");
    assert.ok(error.message.length < 600);
  });
});
