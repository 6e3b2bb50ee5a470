import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StoredItem } from "../../../../src/core/state.js";
import { readStoredSummaries, summaryItem } from "../../../../src/dialects/openai/responses/history-summary.js";

const message = (id: string, text: string): StoredItem => ({
  item: { id, type: "message", role: "user", content: [{ type: "input_text", text }] },
});

describe("readStoredSummaries", () => {
  const history = (summary: StoredItem): StoredItem[] => [
    message("m1", "one"),
    message("m2", "two"),
    message("m3", "three"),
    message("m4", "four"),
    summary,
    message("m5", "five"),
  ];

  it("stands for the items through `through`; every item stays, tandem's summary aside", () => {
    const read = readStoredSummaries(history({ item: summaryItem({ text: "S", by: "x", through: "m2", kept: ["m3", "m4"] }) }));
    assert.deepEqual(
      read.items.map((s) => s.item.id),
      ["m1", "m2", "m3", "m4", "m5"],
    );
    assert.equal(read.summary?.covers, 2);
  });

  it("the item it stands through deleted: it stands for the items before the first one the cut kept", () => {
    const whole = history({ item: summaryItem({ text: "S", by: "x", through: "m2", kept: ["m3", "m4"] }) });
    const read = readStoredSummaries(whole.filter((s) => s.item.id !== "m2"));
    assert.equal(read.summary?.covers, 1);
    // Every kept item deleted too: it stands for what is left before it.
    const none = readStoredSummaries(whole.filter((s) => !["m2", "m3", "m4"].includes(s.item.id)));
    assert.equal(none.summary?.covers, 1);
    assert.deepEqual(
      none.items.map((s) => s.item.id),
      ["m1", "m5"],
    );
  });

  it("a summary that does not list what the cut kept is not used once the item it stands through is gone", () => {
    const whole = history({ item: summaryItem({ text: "S", by: "x", through: "m2" }) });
    const read = readStoredSummaries(whole.filter((s) => s.item.id !== "m2"));
    assert.equal(read.summary, undefined);
    assert.match(read.unusable ?? "", /deleted/);
    assert.equal(read.items.length, 4);
  });
});
