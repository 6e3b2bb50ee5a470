import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { evaluateDetection } from "../../src/privacy/eval/evaluate-detection.js";
import { LABELLED_EXAMPLES } from "../../src/privacy/eval/labelled-examples.js";
import { BUILTIN_KINDS } from "../../src/privacy/index.js";

describe("detection on the labelled set", () => {
  it("has positives of every built-in kind and hard negatives", () => {
    assert.ok(LABELLED_EXAMPLES.length >= 150, `${LABELLED_EXAMPLES.length} examples`);
    for (const kind of BUILTIN_KINDS) {
      const n = LABELLED_EXAMPLES.filter((e) => e.expected.some((x) => x.kind === kind)).length;
      assert.ok(n >= 8, `${kind}: ${n} positive examples`);
    }
    assert.ok(LABELLED_EXAMPLES.filter((e) => e.expected.length === 0).length >= 60);
  });

  it("reaches precision >= 0.95 and recall >= 0.9 overall", (t) => {
    const result = evaluateDetection();
    for (const k of result.perKind) {
      t.diagnostic(
        `${k.kind.padEnd(13)} tp=${k.tp} fp=${k.fp} fn=${k.fn} precision=${k.precision.toFixed(3)} recall=${k.recall.toFixed(3)}`,
      );
    }
    const { precision, recall } = result.overall;
    t.diagnostic(`overall precision=${precision.toFixed(3)} recall=${recall.toFixed(3)}`);
    for (const e of result.errors)
      t.diagnostic(`${JSON.stringify(e.text.slice(0, 80))} missed=${e.missed.length} spurious=${e.spurious.length}`);
    assert.ok(precision >= 0.95, `precision ${precision}`);
    assert.ok(recall >= 0.9, `recall ${recall}`);
    for (const k of result.perKind) assert.ok(k.tp > 0, `${k.kind} found at all`);
  });
});
