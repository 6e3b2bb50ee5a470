/**
 * editJsonTopLevel as a property: for arbitrary JSON object texts (any whitespace, escapes of every
 * kind including U+2028 and surrogates written as escapes, lone ones too, numbers JSON.parse rounds
 * or overflows, keys written twice or with escaped quotes, deep nesting), the edited text parses, is
 * JSON.parse(original) with the edits applied, and keeps every byte outside the edited values.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { editJsonTopLevel } from "../../src/core/json-text-edit.js";

const space = fc.array(fc.constantFrom(" ", "\n", "\t", "\r"), { maxLength: 3 }).map((parts) => parts.join(""));

/** String literals as SDKs and hand-written bodies write them. */
const stringLiteral = fc.oneof(
  fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s)),
  fc.string({ unit: "binary", maxLength: 6 }).map((s) => JSON.stringify(s)),
  fc.constantFrom(
    '"model"',
    '"stream"',
    '"\\u2028\\u2029"',
    '"\\ud83d\\ude00"',
    '"\\ud83d"',
    '"\\ude00 lone"',
    '"caf\\u00e9"',
    '"\\"}{]["',
    '"\\\\"',
    '"\\\\\\""',
    '"\\/\\b\\f\\n\\r\\t"',
    '"\u2028raw"',
    '"😀"',
    '""',
  ),
);

const numberLiteral = fc.oneof(
  fc.constantFrom("1e400", "-1e400", "-0", "1.0", "1e-05", "3.25E+2", "12345678901234567890", "0.1", "0", "-0.0e-0"),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.integer().map(String),
);

/** A key: the fields tandem edits (some written with escapes), and others. */
const keyLiteral = fc.oneof(
  fc.constantFrom(
    '"model"',
    '"stream"',
    '"stream_options"',
    '"mod\\u0065l"',
    '"\\u0073tream"',
    '"a\\"b"',
    '"a\\\\"',
    '"messages"',
    '"__proto__"',
    '""',
  ),
  stringLiteral,
);

const { value } = fc.letrec<{ value: string; object: string; array: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    stringLiteral,
    numberLiteral,
    fc.constantFrom("true", "false", "null"),
    tie("object"),
    tie("array"),
  ),
  object: fc
    .tuple(space, fc.array(fc.tuple(keyLiteral, space, space, tie("value"), space), { maxLength: 4 }))
    .map(([inner, members]) =>
      members.length === 0 ? `{${inner}}` : `{${members.map(([k, a, b, v, c]) => `${inner}${k}${a}:${b}${v}${c}`).join(",")}}`,
    ),
  array: fc
    .tuple(space, fc.array(fc.tuple(space, tie("value"), space), { maxLength: 4 }))
    .map(([inner, items]) => (items.length === 0 ? `[${inner}]` : `[${items.map(([a, v, b]) => `${a}${v}${b}`).join(",")}]`)),
}));

/** A deep value, past the server's MAX_JSON_DEPTH (the scan does not recurse; assert's deep equality would overflow much deeper). */
const deep = fc
  .tuple(fc.integer({ min: 1, max: 400 }), fc.constantFrom("[", '{"a":'))
  .map(([depth, open]) => open.repeat(depth) + "1" + (open === "[" ? "]" : "}").repeat(depth));

interface Member {
  key: string;
  before: string;
  afterKey: string;
  beforeValue: string;
  value: string;
  after: string;
}

/** A top-level object as its parts, so the text expected after an edit can be built independently of the scan. */
const topLevel = fc.record({
  lead: space,
  trail: space,
  inner: space,
  members: fc.array(
    fc.record({
      key: keyLiteral,
      before: space,
      afterKey: space,
      beforeValue: space,
      value: fc.oneof(value, deep),
      after: space,
    }),
    { maxLength: 6 },
  ),
});

function assemble(parts: { lead: string; trail: string; inner: string; members: Member[] }, values?: string[]): string {
  const body =
    parts.members.length === 0
      ? parts.inner
      : parts.members
          .map((m, i) => `${m.before}${m.key}${m.afterKey}:${m.beforeValue}${values?.[i] ?? m.value}${m.after}`)
          .join(",");
  return `${parts.lead}{${body}}${parts.trail}`;
}

const EDITS: ReadonlyArray<readonly [string, string]> = [
  ["model", '"up/model-\\u00e9"'],
  ["stream", "true"],
  ["stream_options", '{"include_usage":true}'],
];

describe("editJsonTopLevel (properties)", () => {
  it("parses, equals JSON.parse with the edits applied, and keeps every byte outside the edited values", () => {
    fc.assert(
      fc.property(topLevel, fc.subarray([...EDITS], { minLength: 1 }), (parts, edits) => {
        const text = assemble(parts);
        const edited = editJsonTopLevel(text, edits);
        assert.ok(edited !== undefined, "a valid object is always edited");
        // (a) parses, (b) as JSON.parse reads the original (duplicates: the last), with the edits.
        const expected = JSON.parse(text) as Record<string, unknown>;
        for (const [key, json] of edits) expected[key] = JSON.parse(json);
        assert.deepStrictEqual(JSON.parse(edited), expected);
        // (c) the exact text: each member whose key (as JSON reads it) is edited has its value
        // replaced, every other byte stays; fields not there are added before the closing brace.
        const decoded = parts.members.map((m) => JSON.parse(m.key) as string);
        const values = decoded.map((key) => edits.find(([k]) => k === key)?.[1]);
        let exact = assemble(parts, values as string[]);
        const added = edits.filter(([k]) => !decoded.includes(k)).map(([k, json]) => `${JSON.stringify(k)}:${json}`);
        if (added.length > 0) {
          const close = exact.lastIndexOf("}");
          exact = `${exact.slice(0, close)}${parts.members.length > 0 ? "," : ""}${added.join(",")}${exact.slice(close)}`;
        }
        assert.equal(edited, exact);
      }),
      { numRuns: 3000 },
    );
  });

  it("gives up (undefined, the parsed body is serialised instead) on text JSON.parse refuses or that is not one object", () => {
    fc.assert(
      fc.property(value, fc.string({ maxLength: 3 }), (text, tail) => {
        const candidate = text + tail;
        let object = false;
        try {
          const parsed: unknown = JSON.parse(candidate);
          object = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed);
        } catch {}
        const edited = editJsonTopLevel(candidate, [["model", '"m"']]);
        if (object) assert.ok(edited !== undefined && (JSON.parse(edited) as { model: unknown }).model === "m");
        else assert.equal(edited, undefined, candidate);
      }),
      { numRuns: 3000 },
    );
  });
});
