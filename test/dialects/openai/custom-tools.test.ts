/**
 * Custom tools on the canonical path (dialects/openai/custom-tools.ts): a call's input read from the
 * function's arguments, whole and as they stream, split anywhere, escapes and surrogate pairs included.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { CustomToolInputStream, customToolArguments, customToolInput } from "../../../src/dialects/openai/custom-tools.js";

/** Feeds `args` to a stream in the pieces `cuts` make, and gives what it gave, joined. */
function streamed(args: string, cuts: number[]): string {
  const stream = new CustomToolInputStream();
  let out = "";
  let from = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < args.length)].sort((a, b) => a - b)) {
    out += stream.push(args.slice(from, cut));
    from = cut;
  }
  out += stream.push(args.slice(from));
  assert.equal(stream.given, out);
  return out;
}

describe("custom tool input", () => {
  it("reads the input from the arguments whole, or takes text that is not such an object as it is", () => {
    assert.equal(
      customToolInput(customToolArguments('*** Begin Patch\n+"hi"\n*** End Patch')),
      '*** Begin Patch\n+"hi"\n*** End Patch',
    );
    assert.equal(customToolInput('{"patch": "x"}'), "x", "an object's only string, when the model named it otherwise");
    assert.equal(customToolInput('{"a": "x", "b": "y"}'), '{"a": "x", "b": "y"}');
    assert.equal(customToolInput("not json"), "not json");
    assert.equal(customToolInput('"just a string"'), "just a string");
  });

  it("streams the decoded input however the arguments are split", () => {
    const input = 'line 1\n\t"quoted" \\ back/slash \u00e9 \ud83d\ude00 end';
    const args = customToolArguments(input);
    assert.equal(streamed(args, []), input);
    for (let cut = 1; cut < args.length; cut++) assert.equal(streamed(args, [cut]), input, `cut at ${cut}`);
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.array(fc.nat({ max: 400 }), { maxLength: 12 }), (text, cuts) => {
        const json = customToolArguments(text);
        assert.equal(streamed(json, cuts), text);
      }),
      { numRuns: 300 },
    );
  });

  it("gives nothing for arguments that do not open with the input, and stops at its closing quote", () => {
    assert.equal(streamed('{"other": 1, "input": "x"}', [3, 9]), "");
    assert.equal(streamed('{"input": "abc", "more": "zzz"}', [5, 14]), "abc");
    assert.equal(streamed(' { "input" : "spaced"}', []), "spaced");
  });
});
