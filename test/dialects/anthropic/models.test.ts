import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError, type ModelEntry } from "../../../src/core/index.js";
import { renderAnthropicModel, renderAnthropicModelList } from "../../../src/dialects/anthropic/index.js";

describe("Anthropic /v1/models rendering", () => {
  const entries: ModelEntry[] = [
    {
      name: "claude/claude-sonnet-4-5",
      kind: "target",
      provider: "claude",
      upstreamModel: "claude-sonnet-4-5",
      created: 1758844800,
    },
    { name: "auto", kind: "route", tiers: [["claude/claude-sonnet-4-5"]] },
  ];

  it("renders one model with an RFC 3339 created_at", () => {
    assert.deepEqual(renderAnthropicModel(entries[0]!), {
      type: "model",
      id: "claude/claude-sonnet-4-5",
      display_name: "claude/claude-sonnet-4-5",
      created_at: "2025-09-26T00:00:00Z",
      capabilities: null,
      deprecated_at: null,
      lifecycle: "active",
      line: null,
      max_input_tokens: null,
      max_tokens: null,
      retires_at: null,
    });
    assert.equal(renderAnthropicModel({ ...entries[0]!, contextWindow: 200000 }).max_input_tokens, 200000);
    assert.equal(renderAnthropicModel(entries[1]!).created_at, "1970-01-01T00:00:00Z");
  });

  it("renders the list as one page with first_id and last_id", () => {
    const list = renderAnthropicModelList(entries);
    assert.deepEqual(
      list.data.map((m) => m.id),
      ["claude/claude-sonnet-4-5", "auto"],
    );
    assert.equal(list.has_more, false);
    assert.equal(list.first_id, "claude/claude-sonnet-4-5");
    assert.equal(list.last_id, "auto");
    assert.deepEqual(renderAnthropicModelList([]), { data: [], has_more: false, first_id: null, last_id: null });
  });

  it("says what a bad limit should be in words, not in the schema's", () => {
    for (const limit of ["abc", "0", "1001", "2.5"]) {
      assert.throws(
        () => renderAnthropicModelList(entries, { limit }),
        (err: unknown) =>
          err instanceof GatewayError &&
          err.param === "limit" &&
          err.message === "Invalid value for 'limit': expected a whole number from 1 to 1000",
        limit,
      );
    }
    assert.equal(renderAnthropicModelList(entries, { limit: "1" }).data.length, 1);
  });
});
