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
