import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toolCallId, toolUseId } from "../../src/core/index.js";

describe("Anthropic's tool ids, written for its clients and read back", () => {
  it("an upstream's id comes back to it whole, and the client's id is what toolUseId writes of it again", () => {
    for (const upstream of [
      "call_9",
      "toolu_01A09q90qw90lq917835lq9",
      "functions.get_weather:0",
      "a-zz",
      "ü/é",
      "x".repeat(64),
    ]) {
      const written = toolUseId(upstream);
      assert.match(written, /^toolu_[A-Za-z0-9_-]+$/);
      const read = toolCallId(written);
      assert.equal(toolUseId(read), written, upstream);
      if (!upstream.startsWith("toolu_")) assert.equal(read, upstream);
    }
  });

  it("an id no toolUseId wrote is kept whole, so an Anthropic upstream is sent it as the client wrote it", () => {
    for (const id of ["toolu_a-zz", "toolu_toolu_x", "toolu_"]) assert.equal(toolCallId(id), id);
    assert.equal(toolCallId("toolu_call_9"), "call_9");
  });
});
