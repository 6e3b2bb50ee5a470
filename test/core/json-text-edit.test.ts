/**
 * editJsonTopLevel: a body's top-level fields replaced or added in its text, every other byte kept;
 * checked against JSON.parse on texts written in many styles (spacing, escapes, numbers as Python
 * writes them, nesting, keys written twice).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { editJsonTopLevel } from "../../src/core/json-text-edit.js";

describe("editJsonTopLevel", () => {
  it("replaces a field's value in place and keeps every other byte", () => {
    const text =
      '{"model": "gpt-4o",  "temperature": 1.0, "top_p": 1e-05, "messages": [{"role": "user", "content": "caf\\u00e9 \\"x\\" }"}]}';
    const edited = editJsonTopLevel(text, [["model", '"up-model"']]);
    assert.equal(edited, text.replace('"gpt-4o"', '"up-model"'));
  });

  it("adds a field that is not there before the closing brace, and handles an empty object", () => {
    assert.equal(editJsonTopLevel('{"a":1}', [["stream", "true"]]), '{"a":1,"stream":true}');
    assert.equal(editJsonTopLevel('{ "a" : 1 }\n', [["stream", "true"]]), '{ "a" : 1 ,"stream":true}\n');
    assert.equal(editJsonTopLevel("{}", [["stream", "true"]]), '{"stream":true}');
    assert.equal(
      editJsonTopLevel(" { } ", [
        ["a", "1"],
        ["b", "2"],
      ]),
      ' { "a":1,"b":2} ',
    );
  });

  it("replaces a key written twice both times, and reads an escaped key as JSON does", () => {
    assert.equal(editJsonTopLevel('{"model":"a","x":1,"model":"b"}', [["model", '"c"']]), '{"model":"c","x":1,"model":"c"}');
    assert.equal(editJsonTopLevel('{"mod\\u0065l":"a"}', [["model", '"c"']]), '{"mod\\u0065l":"c"}');
  });

  it("leaves nested fields of the same name alone", () => {
    const text = '{"messages":[{"model":"inner","stream":false}],"meta":{"stream":1},"model":"outer"}';
    const edited = editJsonTopLevel(text, [
      ["model", '"m"'],
      ["stream", "true"],
    ]) as string;
    assert.deepEqual(JSON.parse(edited), {
      messages: [{ model: "inner", stream: false }],
      meta: { stream: 1 },
      model: "m",
      stream: true,
    });
  });

  it("gives up (undefined) on what is not one JSON object", () => {
    for (const text of ["[1,2]", '"x"', "", '{"a":1} {"b":2}', "\ufeff{}", '{"a":'])
      assert.equal(editJsonTopLevel(text, [["a", "2"]]), undefined, JSON.stringify(text));
  });

  it("agrees with JSON.parse on many random bodies written in many styles", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)] as T;
    const space = () => pick(["", " ", "\n", "\t", "  \r\n "]);
    const value = (depth: number): string => {
      const kind = depth > 3 ? random() * 4 : random() * 6;
      if (kind < 1) return pick(["1", "1.0", "-0", "1e-05", "3.25E+2", "12345678901234567890"]);
      if (kind < 2) return pick(['"a"', '"q\\"uote"', '"}{]["', '"\\u00e9\\\\"', '"model"', '""']);
      if (kind < 3) return pick(["true", "false", "null"]);
      if (kind < 4)
        return `[${space()}${Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1)).join(`${space()},${space()}`)}${space()}]`;
      return object(depth + 1);
    };
    const object = (depth: number): string => {
      const keys = Array.from({ length: Math.floor(random() * 5) }, () =>
        pick(['"model"', '"stream"', '"a"', '"b\\u0022"', '"stream_options"']),
      );
      return `{${space()}${keys.map((k) => `${k}${space()}:${space()}${value(depth)}`).join(`${space()},${space()}`)}${space()}}`;
    };
    for (let n = 0; n < 2000; n++) {
      const text = `${space()}${object(0)}${space()}`;
      const parsed = JSON.parse(text) as Record<string, unknown>;
      const edits: [string, string][] = [
        ["model", '"up/x"'],
        ["stream", "true"],
        ["stream_options", '{"include_usage":true}'],
      ];
      const edited = editJsonTopLevel(text, edits);
      assert.ok(edited !== undefined, text);
      assert.deepEqual(
        JSON.parse(edited),
        { ...parsed, model: "up/x", stream: true, stream_options: { include_usage: true } },
        text,
      );
    }
  });
});
