/**
 * The incremental parser a large body goes through must give what Fastify's parser (JSON.parse plus
 * its `__proto__`/`constructor.prototype` refusal) gives for the whole text: the same value, key order
 * included, and an error exactly where that parser errs. Slices are made tiny here so that every
 * kind of cut (inside strings, escapes, surrogate pairs, multi-byte characters, runs of members) is
 * exercised on small texts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Fastify from "fastify";
import { deepPath, MAX_JSON_DEPTH } from "../../src/server/json-body.js";
import { InvalidJsonBody, JsonBodyTooDeep, parseJsonInTurns } from "../../src/server/json-body-slices.js";
import { seeded } from "../support/seeded-random.js";

const fastifyParse = Fastify().getDefaultJsonParser("error", "error");

function parseWhole(text: string): unknown {
  let failed: Error | null = null;
  let value: unknown;
  fastifyParse({} as never, text, (err, body) => {
    failed = err;
    value = body;
  });
  if (failed) throw failed;
  return value;
}

type Outcome = { value: unknown } | { invalid: true } | { tooDeep: (string | number)[] };

function expected(text: string): Outcome {
  try {
    return { value: parseWhole(text) };
  } catch {
    return { invalid: true };
  }
}

async function incremental(text: string | Buffer, sliceBytes: number): Promise<Outcome> {
  try {
    const bytes = typeof text === "string" ? Buffer.from(text) : text;
    return {
      value: await parseJsonInTurns(bytes, { parse: parseWhole, maxDepth: MAX_JSON_DEPTH, deepPath, sliceBytes, turnMs: 1 }),
    };
  } catch (err) {
    if (err instanceof InvalidJsonBody) return { invalid: true };
    if (err instanceof JsonBodyTooDeep) return { tooDeep: err.path };
    throw err;
  }
}

/** Same outcome, and for a value the same JSON text (key order) and prototype. */
async function assertSame(text: string, sliceBytes: number): Promise<void> {
  const want = expected(text);
  const got = await incremental(text, sliceBytes);
  assert.deepStrictEqual(got, want, `slice ${sliceBytes}: ${text.slice(0, 200)}`);
  if ("value" in want && "value" in got) assert.equal(JSON.stringify(got.value), JSON.stringify(want.value));
}

const STRINGS = [
  "",
  "plain",
  'he said "hi" [not an array] {nor an object}, ok',
  'back\\slash\\\\ and \\"',
  "é日本語",
  "😀🎉 astral",
  "\ud83d lone high",
  "lone low \ude00",
  "\u2028\u2029 separators",
  "line\nbreak\ttab\r\f\b",
  "\u0000\u001f controls",
  "x".repeat(300),
  'é😀\\"'.repeat(80),
];
const KEYS = ["a", "b", "1", "10", "0", "z z", "é", '"q', "constructor", "prototype", "toString", ""];

function value(random: () => number, depth: number): unknown {
  const r = random();
  if (depth > 3 || r < 0.35) {
    const scalars = [0, -0, 1, -1.5e-7, 1e21, 1.2345678901234568e29, 0.1, true, false, null];
    return random() < 0.5 ? scalars[Math.floor(random() * scalars.length)] : STRINGS[Math.floor(random() * STRINGS.length)];
  }
  if (r < 0.65) return Array.from({ length: Math.floor(random() * 12) }, () => value(random, depth + 1));
  const object: Record<string, unknown> = {};
  const n = Math.floor(random() * 10);
  for (let i = 0; i < n; i++) object[KEYS[Math.floor(random() * KEYS.length)] as string] = value(random, depth + 1);
  return object;
}

/** The text of `v`, sometimes spaced out, sometimes with characters written as escapes. */
function text(random: () => number, v: unknown): string {
  let t = JSON.stringify(v, null, random() < 0.3 ? 2 : undefined);
  if (random() < 0.3) t = t.replace(/é/g, "\\u00e9").replace(/😀/g, "\\ud83d\\ude00").replace(/日/g, "\\u65E5");
  if (random() < 0.2) t = ` \n${t}\t\r `;
  return t;
}

describe("parsing a large JSON body in slices", () => {
  it("gives what the whole-text parser gives, for many shapes and slice sizes", async () => {
    const random = seeded(19);
    for (let i = 0; i < 600; i++) {
      const t = text(random, value(random, 0));
      for (const slice of [64, 97, 1024]) await assertSame(t, slice);
    }
  });

  it("keeps duplicate keys as JSON.parse does (the last value, at the first one's place), across slices", async () => {
    const filler = "y".repeat(100);
    const t = `{"a":1,"b":"${filler}","c":[1,2],"a":"${filler}","10":0,"b":[3],"2":{"a":1,"a":2}}`;
    for (const slice of [64, 80, 150, 4096]) await assertSame(t, slice);
    const got = (await incremental(t, 64)) as { value: object };
    assert.deepEqual(Object.keys(got.value), ["2", "10", "a", "b", "c"]);
  });

  it("reads numbers as JSON.parse reads them, however they are written", async () => {
    const filler = `"${"n".repeat(100)}"`;
    const t = `[${filler},1E400,-0.0,123456789012345678901234567890,1e-400,0.1e+2,-1.5E-7,${filler},{"n":9007199254740993}]`;
    for (const slice of [64, 90, 4096]) await assertSame(t, slice);
  });

  it("refuses __proto__ keys and constructor.prototype as Fastify's parser does, wherever they fall", async () => {
    const long = "w".repeat(200);
    const cases = [
      `{"x":"${long}","__proto__":{"polluted":1}}`,
      `{"x":"${long}","\\u005f_proto__":1}`,
      `{"x":"${long}","__proto__":"${long}"}`,
      `{"x":"${long}","constructor":{"prototype":{"p":1},"y":"${long}"}}`,
      `[{"x":"${long}"},{"constructor":{"prototype":1}}]`,
      `{"x":"${long}","constructor":{"notprototype":"${long}"}}`,
      `{"x":"${long}","constructor":"${long}"}`,
    ];
    for (const c of cases) for (const slice of [64, 128, 100_000]) await assertSame(c, slice);
    assert.deepEqual(await incremental(cases[0] as string, 64), { invalid: true });
    assert.ok("value" in (await incremental(cases[5] as string, 64)));
  });

  it("refuses broken JSON wherever it breaks", async () => {
    const random = seeded(7);
    const breaks: ((t: string) => string)[] = [
      (t) => t.slice(0, Math.floor(random() * t.length)),
      (t) => t.replace(",", ",,"),
      (t) => t.replace("]", ",]"),
      (t) => t.replace("}", ",}"),
      (t) => t.replace(":", "::"),
      (t) => `${t}x`,
      (t) => `${t} {}`,
      (t) => t.replace('"', "'"),
      (t) => t.replace(/"([^"\\]{3})/, '"$1\n'),
      (t) => t.replace("\\", "\\x"),
      (t) => t.replace(/\[/, "["),
      (t) => t.replace("true", "tru"),
      (t) => t.replace(/1/, "01"),
    ];
    for (let i = 0; i < 600; i++) {
      const t = breaks[i % breaks.length]?.(text(random, value(random, 0))) as string;
      for (const slice of [64, 200]) await assertSame(t, slice);
    }
    for (const t of ["", "   ", "[", "{", '"', '{"a"', '{"a":', "[1,", '{"a":1,}', "nul", "\ufeff"]) await assertSame(t, 64);
  });

  it("reads a leading byte order mark as Fastify's parser does", async () => {
    await assertSame('\ufeff{"a":"x"}', 64);
    const got = await incremental(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`["${"z".repeat(300)}"]`)]), 64);
    assert.deepEqual(got, { value: ["z".repeat(300)] });
  });

  it("decodes long strings a slice at a time without splitting characters or escapes", async () => {
    const unit = 'aé日😀\\"\\\\\\u00e9\\ud83d\\ude00\\n';
    for (let pad = 0; pad < 12; pad++) {
      const t = `{"p":"${"-".repeat(pad)}${unit.repeat(50)}"}`;
      for (const slice of [64, 65, 66, 67, 70, 129]) await assertSame(t, slice);
    }
    // Invalid UTF-8 becomes U+FFFD as the whole-text decoder makes it, also on a slice's edge.
    const broken = Buffer.concat([
      Buffer.from('["'),
      Buffer.alloc(200, 0x61),
      Buffer.from([0xe6, 0x97]),
      Buffer.alloc(200, 0x62),
      Buffer.from('"]'),
    ]);
    for (const slice of [64, 100, 201, 202, 203]) {
      assert.deepEqual(await incremental(broken, slice), expected(broken.toString("utf8")));
    }
  });

  it("refuses nesting past the limit, naming the same path as the whole-text check", async () => {
    const filler = `"${"f".repeat(150)}"`;
    const deep = (levels: number) => `${'{"k":['.repeat(levels)}1${"]}".repeat(levels)}`;
    const cases = [
      `{"messages":[${filler},${filler},{"content":${deep(60)}}]}`,
      `[${filler},${"[".repeat(120)}${"]".repeat(120)}]`,
      `{"a":${filler},"tools":[{"parameters":${deep(51)}}]}`,
    ];
    for (const c of cases) {
      const wholePath = deepPath(c, MAX_JSON_DEPTH);
      for (const slice of [64, 100, 300, 100_000]) {
        assert.deepEqual(await incremental(c, slice), { tooDeep: wholePath }, `slice ${slice}`);
      }
    }
    // Exactly at the limit is fine.
    await assertSame(`[${filler},${"[".repeat(99)}${"]".repeat(99)}]`, 64);
  });
});
