/**
 * A tool's failure as the calling model reads it. A failure of the encrypted store (a full disk while
 * `remember` writes) is said as every route says it, with what to do, not as "Internal error in
 * tandem (see the server log)", which nothing in the log explained.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError } from "../../../src/core/index.js";
import { toolError } from "../../../src/harness/mcp-server/tool-error.js";
import { StoreError } from "../../../src/store/store-error.js";

const textOf = (result: ReturnType<typeof toolError>) => (result.content[0] as { text: string }).text;

describe("an MCP tool's error", () => {
  it("says a full disk is passing, also when the store's error is the cause of another", () => {
    const full = new StoreError("disk_full", "no space left on the disk holding /secret/path/tandem.db", {
      file: "/secret/path/tandem.db",
    });
    for (const err of [full, new Error("the memory was not added", { cause: full })]) {
      const result = toolError(err);
      assert.equal(result.isError, true);
      assert.match(textOf(result), /store cannot be used right now \(disk_full\); try again shortly \(unavailable\)/);
      assert.doesNotMatch(textOf(result), /secret/, "the file's path stays in the server");
    }
  });

  it("says a damaged store is unavailable, without its path", () => {
    const text = textOf(toolError(new StoreError("corrupt", "/secret/tandem.db is damaged", { file: "/secret/tandem.db" })));
    assert.match(text, /store failed \(corrupt\)/);
    assert.doesNotMatch(text, /secret/);
  });

  it("keeps a GatewayError's own words and hides anything else's", () => {
    assert.equal(textOf(toolError(new GatewayError("invalid_request", "no such model"))), "no such model (invalid_request)");
    assert.equal(textOf(toolError(new Error("at /home/me/x"))), "Internal error in tandem (see the server log)");
  });
});
