/**
 * GatewayError.from classifies on structured fields (name and code, never the message), from one
 * allow-list of network codes; every GatewayError message is cleaned of secrets and home paths.
 */
import assert from "node:assert/strict";
import { homedir } from "node:os";
import { describe, it } from "node:test";
import {
  errorExcerpt,
  GatewayError,
  NETWORK_FAILURE_CODES,
  redactHomePath,
  redactSecrets,
  rememberSecret,
  SECRET_MASK,
} from "../../src/core/index.js";
import { countsAgainstTarget, failoverDecision } from "../../src/router/retry-policy.js";

function coded(code: string, message = `failed: ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

describe("GatewayError.from", () => {
  it("makes every network code of the allow-list a retryable unavailable that counts against the target", () => {
    for (const code of NETWORK_FAILURE_CODES) {
      if (code === "UND_ERR_CONNECT_TIMEOUT") continue;
      const error = GatewayError.from(coded(code));
      assert.equal(error.code, "unavailable", code);
      assert.equal(error.retryable, true, code);
      assert.equal(failoverDecision(error), "retry", code);
      assert.equal(countsAgainstTarget(error), true, code);
    }
  });

  it("finds the code on the cause (fetch's 'fetch failed' wraps the socket error)", () => {
    const error = GatewayError.from(new TypeError("fetch failed", { cause: coded("ECONNREFUSED") }));
    assert.equal(error.code, "unavailable");
  });

  it("makes time limits timeout and aborts canceled", () => {
    for (const code of ["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]) {
      assert.equal(GatewayError.from(coded(code)).code, "timeout", code);
    }
    assert.equal(GatewayError.from(new DOMException("timed out", "TimeoutError")).code, "timeout");
    assert.equal(GatewayError.from(new DOMException("aborted", "AbortError")).code, "canceled");
    assert.equal(GatewayError.from(coded("UND_ERR_ABORTED")).code, "canceled");
  });

  it("makes a TLS failure unavailable but not worth retrying at once", () => {
    const error = GatewayError.from(coded("CERT_HAS_EXPIRED"));
    assert.equal(error.code, "unavailable");
    assert.equal(error.retryable, false);
    assert.equal(failoverDecision(error), "next");
  });

  it("makes anything else thrown inside tandem internal: not retried, not counted against a target", () => {
    const cases: unknown[] = [
      coded("ERR_INVALID_ARG_TYPE", 'The "chunk" argument must be of type string'),
      coded("ERR_STREAM_WRITE_AFTER_END"),
      coded("UND_ERR_INVALID_ARG"),
      coded("EISDIR"),
      coded("ENOENT"),
      new TypeError("Cannot read properties of undefined (reading 'x')"),
      new RangeError("Maximum call stack size exceeded"),
      new SyntaxError("Unexpected token"),
      "a string",
      { code: "ECONNREFUSED" },
    ];
    for (const thrown of cases) {
      const error = GatewayError.from(thrown);
      assert.equal(error.code, "internal", String(thrown));
      assert.equal(error.retryable, false, String(thrown));
      assert.notEqual(failoverDecision(error), "retry", String(thrown));
      assert.equal(countsAgainstTarget(error), false, String(thrown));
    }
  });

  it("never reads the message: an unreachable-sounding TypeError is still internal", () => {
    assert.equal(GatewayError.from(new TypeError("connect ECONNREFUSED 127.0.0.1:1")).code, "internal");
  });
});

describe("secrets and home paths in error messages", () => {
  it("masks a remembered secret wherever it appears in a GatewayError message", () => {
    const secret = `plain${Math.random().toString(36).slice(2)}xyz`;
    rememberSecret(secret);
    const error = new GatewayError("authentication", `key ${secret} refused; again: ${secret}`);
    assert.ok(!error.message.includes(secret));
    assert.equal(error.message, `key ${SECRET_MASK} refused; again: ${SECRET_MASK}`);
    assert.ok(!String(error.stack).includes(secret), "the stack starts with the cleaned message");
  });

  it("masks secrets it is given, and key shapes it was never told of", () => {
    assert.equal(redactSecrets("sent abcdefgh12345678 twice", ["abcdefgh12345678"]), `sent ${SECRET_MASK} twice`);
    const shapes = [
      "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
      "key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789",
      "key sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789",
      "Incorrect API key provided: sk-abc1**************************wxyz",
      "GET https://example.test/v1/models?key=AIzaSyA1234567890abcdefghijklmnopqrstu&alt=json",
      '{"x-api-key": "0123456789abcdef"}',
      "authorization=Basic dXNlcjpwYXNzd29yZA==",
      "request to https://user:hunter2hunter2@proxy.test/v1/chat failed",
    ];
    for (const text of shapes) {
      const clean = redactSecrets(text);
      assert.ok(clean.includes(SECRET_MASK), `${text} -> ${clean}`);
    }
    assert.ok(!redactSecrets(shapes[0] as string).includes("eyJhbGci"));
    assert.ok(!redactSecrets(shapes[4] as string).includes("AIzaSy"));
    assert.ok(redactSecrets(shapes[4] as string).includes("alt=json"));
  });

  it("leaves ordinary messages alone", () => {
    for (const text of [
      "Basic authentication is not supported",
      "The model `gpt-9` does not exist or you do not have access to it.",
      "Invalid value for 'temperature': expected <= 2",
      "task-runner failed",
    ]) {
      assert.equal(redactSecrets(text), text);
    }
  });

  it("shows paths under the home directory from ~", () => {
    const home = homedir();
    const message = new GatewayError("unavailable", `model file ${home}/models/x.gguf not found (home: ${home})`).message;
    assert.equal(message, "model file ~/models/x.gguf not found (home: ~)");
    assert.equal(redactHomePath(`${home}ward/x`), `${home}ward/x`, "only the home directory itself");
  });

  it("cuts long upstream text to a short excerpt", () => {
    const excerpt = errorExcerpt("a".repeat(10_000));
    assert.ok(excerpt.length <= 501);
  });
});
