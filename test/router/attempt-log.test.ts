/**
 * What a client is told when no target answered (noAnswerError): a lone target's own error about
 * the request, a 400 when every target refused the request for what it is (never a 503 or 529 that
 * SDKs retry), else the 503 or 504 that lists every attempt.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError } from "../../src/core/index.js";
import { type FailedAttempt, noAnswerError } from "../../src/router/attempt-log.js";

const attempt = (target: string, code: string, message: string): FailedAttempt => ({ target, code, message, ms: 3 });

describe("noAnswerError", () => {
  it("a lone target's own refusal reaches the client as it is", () => {
    const own = new GatewayError("invalid_request", "local/a reads text only; this conversation has an image.");
    const error = noAnswerError("local/a", {
      failed: [attempt("local/a", "invalid_request", own.message)],
      deadlinePassed: false,
      lastError: own,
    });
    assert.equal(error, own);
  });

  it("every target refusing the request, skipped or tried, is a 400 naming why each did", () => {
    const error = noAnswerError("mix", {
      failed: [
        attempt("local/a", "unsuitable", "reads text only; the conversation has an image"),
        attempt("local/b", "invalid_request", "local/b reads text only; this conversation has an image."),
        attempt("cloud/c", "context_length_exceeded", "too long"),
      ],
      deadlinePassed: false,
    });
    assert.equal(error.code, "invalid_request");
    assert.equal(error.status, 400);
    assert.equal(error.retryable, false);
    assert.match(
      error.message,
      /^No target of 'mix' can take this request\. Attempts: local\/a: unsuitable after 3 ms \(reads text only/,
    );
    assert.match(error.message, /local\/b: invalid_request .*; cloud\/c: context_length_exceeded after 3 ms \(too long\)$/);
  });

  it("a conversation too long for every target is a context_length_exceeded", () => {
    const error = noAnswerError("mix", {
      failed: [attempt("a/m", "context_length_exceeded", "over 8k"), attempt("b/m", "context_length_exceeded", "over 4k")],
      deadlinePassed: false,
    });
    assert.equal(error.code, "context_length_exceeded");
    assert.equal(error.status, 400);
  });

  it("a refusal beside a target that was down is the 503 listing both: the other may come back", () => {
    const error = noAnswerError("mix", {
      failed: [attempt("local/a", "invalid_request", "reads text only"), attempt("cloud/b", "unavailable", "503")],
      deadlinePassed: false,
    });
    assert.equal(error.code, "unavailable");
    assert.equal(error.status, 503);
    assert.match(error.message, /every target failed\. Attempts: local\/a: invalid_request .*; cloud\/b: unavailable/);
  });

  it("every real attempt timed out: 504", () => {
    const error = noAnswerError("mix", {
      failed: [attempt("a/m", "timeout", "no first token"), attempt("b/m", "timeout", "idle")],
      deadlinePassed: false,
    });
    assert.equal(error.code, "timeout");
    assert.equal(error.status, 504);
  });
});
