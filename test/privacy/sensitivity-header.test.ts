import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError } from "../../src/core/index.js";
import { parseSensitivityHeader } from "../../src/privacy/sensitivity.js";

describe("the x-tandem-sensitivity header", () => {
  it("reads the levels, trimmed and in any case; absent or blank is not given", () => {
    assert.equal(parseSensitivityHeader(" Private "), "private");
    assert.equal(parseSensitivityHeader("public"), "public");
    assert.equal(parseSensitivityHeader(undefined), undefined);
    assert.equal(parseSensitivityHeader("  "), undefined);
  });

  it("answers another value with a 400 that names the header, the levels and the value as sent", () => {
    // "secret" is what a user might well try: the message must survive the secret scrubber readable.
    for (const value of ["secret", "password: x", "confidential"]) {
      assert.throws(
        () => parseSensitivityHeader(value),
        (err: unknown) => {
          assert.ok(err instanceof GatewayError);
          assert.equal(err.status, 400);
          assert.equal(err.param, "x-tandem-sensitivity");
          assert.equal(
            err.message,
            `Invalid x-tandem-sensitivity header: expected one of public, internal, private (got ${JSON.stringify(value)})`,
          );
          return true;
        },
      );
    }
  });
});
