/** QualityWatch: the checks on an answer as it streams, driven directly. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { QualityWatch, repeatingUnit } from "../../src/router/quality-check.js";

const ALL = { emptyOutput: true, repetition: true, json: true, toolArguments: true };

describe("QualityWatch", () => {
  it("fails an empty answer, unless it was cut off by the token limit or called a tool", () => {
    const watch = new QualityWatch(ALL, undefined, "p/m");
    assert.equal(watch.onFinish("  ", 0, "stop")?.check, "empty_output");
    assert.equal(watch.onFinish("", 0, "length"), undefined);
    assert.equal(watch.onFinish("", 1, "tool_calls"), undefined);
    assert.equal(watch.onFinish("", 0, "stop", false, "\n"), undefined, "the client's stop sequence came first");
    assert.equal(new QualityWatch({ ...ALL, emptyOutput: false }, undefined, "p/m").onFinish("", 0), undefined);
  });

  it("notices a loop as the text streams, and not ordinary prose or layout", () => {
    const looping = new QualityWatch(ALL, undefined, "p/m");
    let bad: ReturnType<QualityWatch["onText"]>;
    for (let i = 0; i < 100 && !bad; i++) bad = looping.onText("the same words ");
    assert.equal(bad?.check, "repetition");
    assert.equal(bad?.error.code, "upstream_error");
    assert.equal(bad?.error.retryable, true);
    assert.match(bad?.error.message ?? "", /p\/m: quality check 'repetition' failed/);

    const prose = new QualityWatch(ALL, undefined, "p/m");
    for (let i = 0; i < 100; i++) assert.equal(prose.onText(`sentence number ${i} says something new. `), undefined);
    assert.equal(repeatingUnit("=".repeat(400)), undefined, "a rule is layout");
  });

  // Legitimate answers that repeat a line 8+ times and then go on (bb-router-depth bug 4).
  const PASSAGES = [
    `Chorus:\n${"Na na na na, hey hey, goodbye\n".repeat(9)}Verse 2:\nHe will never love you like I do, so say goodbye to him tonight.`,
    `def test_add():\n${"    assert add(1, 1) == 2\n".repeat(8)}    assert add(2, 2) == 4\n    assert add(0, 0) == 0\n\ndef test_sub():\n    assert sub(2, 1) == 1\n\nThese tests cover the basic cases.`,
    `${"- [ ] water the plants\n".repeat(12)}That is all for today, and the rest of the week is free for whatever you like. Enjoy!`,
  ];

  /** Streams `text` in the given pieces and finishes: the check that failed, if any. */
  function judge(pieces: readonly string[]): string | undefined {
    const watch = new QualityWatch(ALL, undefined, "p/m");
    for (const piece of pieces) {
      const bad = watch.onText(piece);
      if (bad) return bad.check;
    }
    return watch.onFinish(pieces.join(""), 0, "stop")?.check;
  }

  /** `text` cut into pieces of `size` characters. */
  const cut = (text: string, size: number) => text.match(new RegExp(`[\\s\\S]{1,${size}}`, "g")) ?? [];

  it("passes an answer whose repetition ends in ordinary text, however it is chunked", () => {
    for (const passage of PASSAGES) {
      assert.equal(judge([passage]), undefined, "as one chunk");
      assert.equal(judge(passage.split(/(?<=\n)/)), undefined, `line by line: ${passage.slice(0, 30)}`);
      for (const size of [1, 7, 64, 100]) assert.equal(judge(cut(passage, size)), undefined, `in ${size}-character pieces`);
    }
  });

  it("fails an answer that ends in a loop at its finish, and a runaway loop mid-answer, however it is chunked", () => {
    const tail = `Here you go. ${"the same words ".repeat(20)}`;
    for (const size of [1, 13, 64, 1000])
      assert.equal(judge(cut(tail, size)), "repetition", `a tail loop in ${size}-character pieces`);
    const runaway = `Sure. ${"I am sorry. ".repeat(100)}And now something else entirely, to end on.`;
    for (const size of [1, 5, 64, 1000]) {
      const watch = new QualityWatch(ALL, undefined, "p/m");
      const at = cut(runaway, size).findIndex((piece) => watch.onText(piece) !== undefined);
      assert.notEqual(at, -1, `a runaway loop is failed mid-answer in ${size}-character pieces`);
    }
  });

  it("checks JSON mode answers, and a schema when there is one", () => {
    const json = new QualityWatch(ALL, { type: "json" }, "p/m");
    assert.equal(json.onFinish('{"a":1}', 0), undefined);
    assert.equal(json.onFinish("{not json", 0)?.check, "json");
    assert.equal(json.onFinish("{not json", 0, "length"), undefined, "a truncated answer is what the client asked for");
    const schema = { type: "object", properties: { a: { type: "number" } }, required: ["a"] };
    const typed = new QualityWatch(ALL, { type: "json_schema", schema }, "p/m");
    assert.equal(typed.onFinish('{"a":1}', 0), undefined);
    assert.equal(typed.onFinish('{"a":"one"}', 0)?.check, "json_schema");
  });

  it("wants each tool call's arguments to be a JSON object", () => {
    const watch = new QualityWatch(ALL, undefined, "p/m");
    assert.equal(watch.onToolCall("f", '{"x":1}'), undefined);
    assert.equal(watch.onToolCall("f", ""), undefined, "no arguments is an empty object");
    assert.equal(watch.onToolCall("f", '{"x":')?.check, "tool_arguments");
    assert.equal(watch.onToolCall("f", "[1]")?.check, "tool_arguments");
  });
});
