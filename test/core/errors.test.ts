/**
 * GatewayError.from classifies on structured fields (name and code, never the message), from one
 * allow-list of network codes; every GatewayError message is cleaned of secrets and home paths.
 */
import assert from "node:assert/strict";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { homedir } from "node:os";
import { describe, it } from "node:test";
import { request } from "undici";
import {
  errorExcerpt,
  GatewayError,
  MAX_ERROR_MESSAGE,
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

  it("makes an upstream's broken HTTP upstream_error, from undici's own errors: not retried, counted against the target", async () => {
    // A port that is not HTTP (an SSH banner, a TLS alert for http:// to a TLS port), broken chunked
    // framing, headers past undici's limit: thrown by undici itself, as it throws them in production.
    const answers: Record<string, (socket: Socket) => void> = {
      "an SSH banner": (socket) => socket.end("SSH-2.0-OpenSSH_9.6\r\n"),
      "a TLS alert": (socket) => socket.end(Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46])),
      "headers over the limit": (socket) => socket.end(`HTTP/1.1 200 OK\r\nx-pad: ${"a".repeat(70_000)}\r\n\r\n`),
      "a bad chunk size": (socket) =>
        socket.end("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\ngarbage\r\n"),
    };
    for (const [what, answer] of Object.entries(answers)) {
      const server = createServer((socket) => {
        socket.on("error", () => {});
        socket.once("data", () => answer(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        const thrown = await request(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
          method: "POST",
          body: "{}",
        })
          .then((res) => res.body.text())
          .then(
            () => undefined,
            (err: unknown) => err,
          );
        assert.ok(thrown instanceof Error, `${what}: undici throws`);
        const error = GatewayError.from(thrown);
        assert.equal(error.code, "upstream_error", `${what}: ${thrown.name} ${String((thrown as { code?: unknown }).code)}`);
        assert.equal(error.status, 502, what);
        assert.equal(failoverDecision(error), "next", what);
        assert.equal(countsAgainstTarget(error), true, what);
      } finally {
        server.close();
      }
    }
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
      "connect failed: db_passwd=hunter2hunter2",
      "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENG",
      '{"client-secret": "s3cr3tvalue"}',
      "PGPASSWORD pwd: hunter2hunter2",
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
      "password_reset: not allowed",
      "the secret sauce",
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

  it("cuts a message past MAX_ERROR_MESSAGE (a client's megabyte-long model name quoted in a 404), after cleaning it", () => {
    const key = `sk-${"k".repeat(40)}`;
    const error = new GatewayError("not_found", `The model '${"x".repeat(MAX_ERROR_MESSAGE - 10)}${key}' does not exist.`);
    assert.equal(error.message.length, MAX_ERROR_MESSAGE + 1);
    assert.ok(error.message.endsWith("…"));
    assert.ok(!error.message.includes("sk-kkkk"), "the key's start is not left behind by the cut");
    const short = "The model 'nope' does not exist.";
    assert.equal(new GatewayError("not_found", short).message, short);
  });

  it("cuts long upstream text to a short excerpt", () => {
    const excerpt = errorExcerpt("a".repeat(10_000));
    assert.ok(excerpt.length <= 501);
  });
});
