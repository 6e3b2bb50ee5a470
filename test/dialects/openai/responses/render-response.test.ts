import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { responseErrorCode } from "../../../../src/dialects/openai/responses/render-response.js";

describe("responseErrorCode", () => {
  it("keeps a code ResponseError.code has, openai-node 7's misalignment_policy_violation too, and makes any other server_error", () => {
    assert.equal(responseErrorCode("rate_limit_exceeded"), "rate_limit_exceeded");
    assert.equal(responseErrorCode("misalignment_policy_violation"), "misalignment_policy_violation");
    assert.equal(responseErrorCode("upstream_error"), "server_error");
  });
});
