/** Anthropic's aliases (its "Model IDs and versioning"): a dated id without its date, or with `-latest` for it. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { anthropicAliasTarget } from "../../../src/providers/anthropic/model-alias.js";

describe("anthropicAliasTarget", () => {
  const listed = ["claude-sonnet-4-5-20250929", "claude-3-5-sonnet-20240620", "claude-3-5-sonnet-20241022", "claude-opus-4-6"];

  it("is the newest listed snapshot of the name without its date, or with -latest in its place", () => {
    assert.equal(anthropicAliasTarget("claude-sonnet-4-5", listed), "claude-sonnet-4-5-20250929");
    assert.equal(anthropicAliasTarget("claude-3-5-sonnet", listed), "claude-3-5-sonnet-20241022");
    assert.equal(anthropicAliasTarget("claude-3-5-sonnet-latest", listed), "claude-3-5-sonnet-20241022");
  });

  it("is none for a name that only begins like a listed id, or a dateless id's other forms", () => {
    for (const name of [
      "claude-sonnet-4",
      "claude-sonnet",
      "claude-sonnet-4-5-2025",
      "claude-opus-4-6-latest",
      "claude-opus-4",
    ]) {
      assert.equal(anthropicAliasTarget(name, listed), undefined, name);
    }
  });
});
