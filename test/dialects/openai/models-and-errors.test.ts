import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { type ErrorCode, GatewayError } from "../../../src/core/index.js";
import { openaiDialect, renderOpenAIModel, renderOpenAIModelList } from "../../../src/dialects/openai/index.js";
import { type DialectApp, startDialectApp, TARGET } from "./stub-gateway.js";

let app: DialectApp;

before(async () => {
  app = await startDialectApp();
});

after(() => app.close());

describe("model list", () => {
  it("renders targets and routes as OpenAI model objects", () => {
    assert.deepEqual(renderOpenAIModelList(app.gateway.entries), {
      object: "list",
      data: [
        { id: TARGET, object: "model", created: 1700000000, owned_by: "fake" },
        { id: "auto", object: "model", created: 0, owned_by: "tandem" },
      ],
    });
    assert.deepEqual(renderOpenAIModel({ name: "x/y", kind: "target" }), {
      id: "x/y",
      object: "model",
      created: 0,
      owned_by: "tandem",
    });
  });

  it("is what the SDK's models.list() reads", async () => {
    const client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    assert.deepEqual(ids, [TARGET, "auto"]);
  });
});

describe("renderError", () => {
  const table: [ErrorCode, number, string, string | null][] = [
    ["invalid_request", 400, "invalid_request_error", null],
    ["context_length_exceeded", 400, "invalid_request_error", "context_length_exceeded"],
    ["content_filter", 400, "invalid_request_error", "content_policy_violation"],
    ["authentication", 401, "invalid_request_error", "invalid_api_key"],
    ["permission_denied", 403, "request_forbidden", "permission_denied"],
    ["not_found", 404, "invalid_request_error", "model_not_found"],
    ["payload_too_large", 413, "invalid_request_error", "request_too_large"],
    ["unsupported_media_type", 415, "invalid_request_error", "unsupported_media_type"],
    ["rate_limited", 429, "requests", "rate_limit_exceeded"],
    ["canceled", 499, "invalid_request_error", "request_canceled"],
    ["internal", 500, "server_error", null],
    ["upstream_error", 502, "server_error", "upstream_error"],
    ["unavailable", 503, "service_unavailable_error", "service_unavailable"],
    ["overloaded", 503, "service_unavailable_error", "server_is_overloaded"],
    ["timeout", 504, "server_error", "timeout"],
  ];
  for (const [code, status, type, wireCode] of table) {
    it(`${code} -> ${status} ${type}/${wireCode}`, () => {
      const rendered = openaiDialect.renderError(new GatewayError(code, "what happened"));
      assert.equal(rendered.status, status);
      assert.deepEqual(rendered.body, {
        error: { message: "what happened", type, param: code === "context_length_exceeded" ? "messages" : null, code: wireCode },
      });
      // A 5xx that asking again cannot change says so, as the SDKs read it before the status.
      assert.deepEqual(rendered.headers, code === "internal" ? { "x-should-retry": "false" } : undefined);
    });
  }

  it("says x-should-retry: false for a 5xx that lasts, never for an overload or a passing failure", () => {
    const lasting = openaiDialect.renderError(new GatewayError("unavailable", "no key", { retryable: false }));
    assert.equal(lasting.status, 503);
    assert.deepEqual(lasting.headers, { "x-should-retry": "false" });
    const busy = openaiDialect.renderError(new GatewayError("overloaded", "queue full", { retryable: false }));
    assert.equal(busy.headers, undefined);
    assert.equal(openaiDialect.renderError(new GatewayError("unavailable", "every target failed")).headers, undefined);
    assert.equal(openaiDialect.renderError(new GatewayError("not_found", "nope", { retryable: false })).headers, undefined);
  });

  it("shows an OpenAI-compatible upstream's own type and code, a null code as null", () => {
    const upstream = (code: string | null) =>
      new GatewayError("upstream_error", "boom", { status: 500, upstream: { wire: "openai", type: "server_error", code } });
    assert.deepEqual(openaiDialect.renderError(upstream(null)).body, {
      error: { message: "boom", type: "server_error", param: null, code: null },
    });
    assert.equal((openaiDialect.renderError(upstream("quota")).body as { error: { code: unknown } }).error.code, "quota");
  });

  it("names the field of a bad value", () => {
    const rendered = openaiDialect.renderError(
      new GatewayError("invalid_request", "Invalid value for 'top_p'", { param: "top_p" }),
    );
    assert.deepEqual(rendered.body, {
      error: { message: "Invalid value for 'top_p'", type: "invalid_request_error", param: "top_p", code: "invalid_value" },
    });
  });

  it("keeps an upstream's status but turns Anthropic's 529 into 503", () => {
    assert.equal(openaiDialect.renderError(new GatewayError("invalid_request", "conflict", { status: 409 })).status, 409);
    assert.equal(openaiDialect.renderError(new GatewayError("overloaded", "busy", { status: 529 })).status, 503);
  });

  it("sends Retry-After with a rate limit", () => {
    const rendered = openaiDialect.renderError(new GatewayError("rate_limited", "slow", { retryAfterMs: 1200 }));
    assert.deepEqual(rendered.headers, { "retry-after": "2", "retry-after-ms": "1200" });
  });
});
