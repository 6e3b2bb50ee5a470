/**
 * The detector's memo of texts it scanned lately (an agent's history comes again with every turn):
 * the same text gets the same findings, with their values, as a fresh scan; any other text, even one
 * character off, is scanned; what it holds is bounded.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DetectionMemo, MEMO_MIN_CHARS } from "../../src/privacy/detection-memo.js";
import { SensitiveDataDetector } from "../../src/privacy/detector.js";
import type { Finding } from "../../src/privacy/finding.js";

const filler = "The build passed and the report is attached below. ".repeat(20);
const history = `${filler}Mail alice.liddell@example.org or call +1 415 555 0100. ${filler}`;

describe("the detection memo", () => {
  it("answers a long text scanned before with what a fresh scan finds, values sliced from that text", () => {
    const detector = new SensitiveDataDetector();
    const first = detector.detect(history);
    assert.ok(first.length >= 2, JSON.stringify(first));
    const again = detector.detect(history);
    assert.deepEqual(again, new SensitiveDataDetector().detect(history));
    assert.deepEqual(
      again.map((f) => f.value),
      ["alice.liddell@example.org", "+1 415 555 0100"],
    );
    // Fresh objects: a caller that changes one does not change the next answer.
    (again[0] as Finding).value = "changed";
    assert.equal(detector.detect(history)[0]?.value, "alice.liddell@example.org");
  });

  it("keeps a JSON text's decoded values, which are not slices of the text", () => {
    const detector = new SensitiveDataDetector();
    const json = JSON.stringify({ note: filler, to: "alice\\u002eliddell@example.org", password: "hunter2-Secret9" }).replace(
      "\\\\u002e",
      "\\u002e",
    );
    const fresh = new SensitiveDataDetector().detectInJson(json);
    assert.ok(
      fresh.some((f) => f.value === "alice.liddell@example.org" && json.slice(f.start, f.end) !== f.value),
      json,
    );
    detector.detectInJson(json);
    assert.deepEqual(detector.detectInJson(json), fresh);
  });

  it("scans any other text, one character off or with a value added, and a text scanned as JSON is not answered for as plain text", () => {
    const detector = new SensitiveDataDetector();
    detector.detect(history);
    const added = history.replace("the report", "bob@example.com's report");
    assert.deepEqual(
      detector.detect(added).map((f) => f.value),
      ["bob@example.com", "alice.liddell@example.org", "+1 415 555 0100"],
    );
    const json = JSON.stringify({ text: history });
    assert.deepEqual(detector.detectInJson(json), new SensitiveDataDetector().detectInJson(json));
  });

  it("does not remember texts with a lone surrogate (UTF-8 cannot tell two apart) or short texts", () => {
    const memo = new DetectionMemo();
    let scans = 0;
    const scan = () => {
      scans++;
      return [];
    };
    for (const text of [`${history}\uD800`, `${history}\uDBFF`, "short"]) {
      memo.find(text, "text", scan);
      memo.find(text, "text", scan);
    }
    assert.equal(scans, 6);
    assert.equal(memo.size, 0);
    memo.find(history, "text", scan);
    memo.find(history, "text", scan);
    assert.equal(scans, 7);
    assert.ok(history.length >= MEMO_MIN_CHARS);
  });

  it("holds a bounded number of texts, forgetting the least recently used", () => {
    const memo = new DetectionMemo();
    const text = (i: number) => `${i} ${filler}`;
    for (let i = 0; i < 5000; i++) memo.find(text(i), "text", () => []);
    assert.equal(memo.size, 4096);
    let scanned = false;
    memo.find(text(0), "text", () => {
      scanned = true;
      return [];
    });
    assert.equal(scanned, true, "the oldest was forgotten");
    scanned = false;
    memo.find(text(4999), "text", () => {
      scanned = true;
      return [];
    });
    assert.equal(scanned, false, "the newest is remembered");
  });
});
