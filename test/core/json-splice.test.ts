/**
 * Raw JSON text in a serialised body: JsonSplice writes a held text where its stand-in stood, and
 * jsonValueSpan / jsonTextsInArray find a value's text inside a JSON text as JSON.parse reads it, so
 * a tool call's arguments can be written as they came (an integer past 2^53, `1.10`, spacing).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compactJson, JsonSplice, jsonObjectText, jsonTextsInArray, jsonValueSpan } from "../../src/core/index.js";

const ARGS = '{"user_id": 1234567890123456789, "amount": 1.10, "s": "a\\"}b"}';

describe("JsonSplice", () => {
  it("writes each held text in its stand-in's place, every other value serialised as usual", () => {
    const splice = new JsonSplice();
    assert.equal(splice.empty, true);
    const body = {
      text: 'quote " and } brace',
      calls: [
        { name: "a", input: splice.hold(ARGS) },
        { name: "b", input: splice.hold("{}") },
      ],
      n: 1.5,
    };
    assert.equal(splice.empty, false);
    const text = splice.stringify(body);
    assert.equal(text, `{"text":"quote \\" and } brace","calls":[{"name":"a","input":${ARGS}},{"name":"b","input":{}}],"n":1.5}`);
    assert.equal(splice.body(body).text, text);
    assert.equal(JSON.parse(text).calls[0].input.amount, 1.1);
  });

  it("without a held text, is JSON.stringify; a string that looks like another body's stand-in stays a string", () => {
    const other = new JsonSplice();
    const foreign = other.hold("{}");
    const splice = new JsonSplice();
    const body = { a: foreign, b: [1, "x"] };
    assert.equal(splice.stringify(body), JSON.stringify(body));
    splice.hold("1");
    assert.equal(splice.stringify(body), JSON.stringify(body), "each body has its own random stand-ins");
  });
});

describe("jsonValueSpan and jsonTextsInArray", () => {
  const line = `{ "model":"m", "message": {"role":"assistant","tool_calls": [ {"function":{"name":"f","arguments":${ARGS}}}, {"id":"2","function":{"arguments":{"x":[1,2.50]}, "name":"g"}}, {"function":{"name":"h"}} ]}, "done": false }`;

  it("finds a nested value's text as written, by keys and indexes", () => {
    const span = jsonValueSpan(line, ["message", "tool_calls", 1, "function", "arguments"]);
    assert.ok(span);
    assert.equal(line.slice(span.start, span.end), '{"x":[1,2.50]}');
    assert.equal(line.slice(...spanOf(line, ["message", "role"])), '"assistant"');
    assert.equal(jsonValueSpan(line, ["message", "tool_calls", 3]), undefined);
    assert.equal(jsonValueSpan(line, ["nothing"]), undefined);
    assert.equal(line.slice(...spanOf(line, ["done"])), "false");
  });

  it("of a key written twice, takes the last value, as JSON.parse does", () => {
    const text = '{"a":{"b":1},"a":{"b":[2, 3]}}';
    assert.equal(text.slice(...spanOf(text, ["a", "b", 1])), "3");
  });

  it("gives each array element's text at a path, undefined where one has none", () => {
    assert.deepEqual(jsonTextsInArray(line, ["message", "tool_calls"], ["function", "arguments"]), [
      ARGS,
      '{"x":[1,2.50]}',
      undefined,
    ]);
    assert.equal(jsonTextsInArray(line, ["message", "content"], ["x"]), undefined);
    assert.deepEqual(jsonTextsInArray('{"a":[]}', ["a"], ["x"]), []);
  });

  it("reads texts JSON.parse refuses as not found rather than guessing", () => {
    assert.equal(jsonValueSpan('{"a":{"b":1', ["a", "b"]), undefined);
    assert.equal(jsonTextsInArray('{"a":[{"b":1},', ["a"], ["b"]), undefined);
  });
});

describe("jsonObjectText", () => {
  it("is the text when it is one JSON object, else undefined", () => {
    assert.equal(jsonObjectText(ARGS), ARGS);
    assert.equal(jsonObjectText(" {} "), " {} ");
    for (const text of [undefined, "", "[]", "1", '"{}"', "{", '{"a":1} x', "null"])
      assert.equal(jsonObjectText(text), undefined);
  });
});

describe("compactJson", () => {
  it("leaves out the whitespace between tokens, never a string's own, and every other character as written", () => {
    assert.equal(
      compactJson('{\n  "a b": "c  d\\"  e",\r\n\t"n": 1.10 ,"x":[ 1 , 2 ]\n}'),
      '{"a b":"c  d\\"  e","n":1.10,"x":[1,2]}',
    );
    const bare = '{"a":1}';
    assert.equal(compactJson(bare), bare);
  });
});

function spanOf(text: string, path: Array<string | number>): [number, number] {
  const span = jsonValueSpan(text, path);
  assert.ok(span, `a value at ${path.join(".")}`);
  return [span.start, span.end];
}
