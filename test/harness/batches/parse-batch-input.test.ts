import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseBatchInput } from "../../../src/harness/batches/parse-batch-input.js";
import { measureLoopGaps } from "../../support/loop-gaps.js";

function line(i: number): string {
  const content = `Summarise item ${i}: ${"lorem ipsum dolor sit amet ".repeat(20)}`;
  return JSON.stringify({
    custom_id: `req-${i}`,
    method: "POST",
    url: "/v1/chat/completions",
    body: {
      model: "m",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content },
      ],
    },
  });
}

describe("parseBatchInput", () => {
  it("reads a large input file a few ms at a time, with the same lines", { timeout: 120_000 }, async () => {
    // About 30 MB of 40,000 lines: parsed at once, it held every other client for seconds.
    const text = Array.from({ length: 40_000 }, (_, i) => line(i)).join("\n");
    const data = new TextEncoder().encode(text);
    // Turns of the event loop taken while parsing: none when the file is parsed in one step.
    let turns = 0;
    let parsing = true;
    const count = () => {
      turns++;
      if (parsing) setImmediate(count);
    };
    setImmediate(count);
    const gaps = measureLoopGaps();
    const parsed = await parseBatchInput(data, "/v1/chat/completions", 50_000);
    parsing = false;
    const longest = await gaps.stop();
    assert.ok(turns > 10, `the event loop turned ${turns} times while 30 MB were parsed`);
    assert.ok(parsed.ok);
    assert.equal(parsed.lines.length, 40_000);
    assert.equal(parsed.lines[39_999]?.customId, "req-39999");
    assert.equal(parsed.model, "m");
    // Generous for a loaded machine: one step is a few ms, the whole file at once was seconds.
    assert.ok(longest < 1000, `the event loop was held ${Math.round(longest)} ms at once`);
  });

  it("still reports each bad line with its number", async () => {
    const text = [line(0), "not json", line(1), line(1)].join("\n");
    const parsed = await parseBatchInput(new TextEncoder().encode(text), "/v1/chat/completions", 10);
    assert.ok(!parsed.ok);
    assert.deepEqual(
      parsed.errors.map((e) => [e.line, e.code]),
      [
        [2, "invalid_json_line"],
        [4, "duplicate_custom_id"],
      ],
    );
  });
});
