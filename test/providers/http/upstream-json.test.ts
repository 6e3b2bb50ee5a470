/**
 * A large upstream body is serialised in pieces: joined, they must be exactly JSON.stringify's text,
 * for every kind of value JSON.stringify treats specially, with pieces made tiny here so that every
 * cut (inside long strings, between surrogate halves, across members) is exercised on small values.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError } from "../../../src/core/index.js";
import { atLeast, stringifyInPieces, upstreamBodyBytes } from "../../../src/providers/http/upstream-json.js";
import { seeded } from "../../support/seeded-random.js";

async function assertSame(value: unknown, piece: number): Promise<void> {
  const pieces = await stringifyInPieces(value, piece);
  assert.equal(pieces.join(""), JSON.stringify(value));
}

const STRINGS = [
  "",
  "plain",
  'quote " and \\ backslash',
  "é日本語",
  "😀🎉",
  "\ud83d lone",
  "lone \ude00",
  "\u2028\n\t\u0000",
  "x".repeat(70),
];

function value(random: () => number, depth: number): unknown {
  const r = random();
  if (depth > 3 || r < 0.35) {
    const scalars: unknown[] = [0, -0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, true, null, undefined, () => 1, Symbol("s")];
    return random() < 0.5 ? scalars[Math.floor(random() * scalars.length)] : STRINGS[Math.floor(random() * STRINGS.length)];
  }
  if (r < 0.65) return Array.from({ length: Math.floor(random() * 10) }, () => value(random, depth + 1));
  const object: Record<string, unknown> = {};
  for (const key of ["a", "10", "1", "é", "b c", '"'].filter(() => random() < 0.5)) object[key] = value(random, depth + 1);
  return object;
}

describe("serialising an upstream body in pieces", () => {
  it("joins to JSON.stringify's text for many shapes and piece sizes", async () => {
    const random = seeded(42);
    for (let i = 0; i < 500; i++) {
      const v = { v: value(random, 0), w: [value(random, 0)] };
      for (const piece of [8, 33, 1000]) await assertSame(v, piece);
    }
  });

  it("never cuts a long string between the halves of a surrogate pair, and keeps lone ones escaped", async () => {
    for (let pad = 0; pad < 6; pad++) {
      const text = `${"-".repeat(pad)}${'a😀\ud83d日\ude00"\\'.repeat(40)}`;
      for (const piece of [8, 9, 10, 17]) await assertSame({ messages: [{ content: text }], n: [text, text] }, piece);
    }
  });

  it("leaves to JSON.stringify what it treats specially: toJSON, holes, undefined, non-plain objects", async () => {
    const long = "z".repeat(50);
    const sparse: unknown[] = [long];
    sparse[3] = long;
    const cases: unknown[] = [
      { when: new Date(0), omitted: undefined, fn: () => 1, sym: Symbol("x"), long },
      { custom: { toJSON: () => undefined }, kept: long, inArray: [{ toJSON: () => undefined }, long] },
      { nested: { toJSON: () => ({ replaced: long }) } },
      sparse,
      [undefined, () => 1, Symbol("y"), long],
      { map: new Map([["a", long]]), boxed: new String(long), nullProto: Object.assign(Object.create(null), { a: long }) },
      { "10": long, "2": long, b: long, a: long },
    ];
    for (const c of cases) for (const piece of [8, 40]) await assertSame(c, piece);
  });

  it("fails as JSON.stringify fails: a cycle, a BigInt", async () => {
    const cycle: Record<string, unknown> = { long: "c".repeat(100) };
    cycle.self = cycle;
    await assert.rejects(stringifyInPieces(cycle, 8), TypeError);
    await assert.rejects(stringifyInPieces({ long: "c".repeat(100), n: 1n }, 8), TypeError);
  });

  it("sends a small body as its text, and a large one as the exact UTF-8 bytes of its JSON", async () => {
    const small = { model: "m", messages: [{ role: "user", content: "hi é😀" }] };
    assert.equal(await upstreamBodyBytes(small, "t"), JSON.stringify(small));
    assert.equal(atLeast(small, 1024), false);
    const text = "ab😀é日\n".repeat(300_000);
    const large = {
      model: "m",
      messages: [
        { role: "user", content: text },
        { role: "user", content: [text.slice(5), 1, null] },
      ],
    };
    const bytes = await upstreamBodyBytes(large, "t");
    assert.ok(Buffer.isBuffer(bytes));
    assert.ok(bytes.equals(Buffer.from(JSON.stringify(large))));
  });

  it("refuses a body nested too deeply to serialise as the client's 400", async () => {
    let deep: unknown = "x".repeat(2 * 1024 * 1024);
    for (let i = 0; i < 20_000; i++) deep = [deep];
    const err = await upstreamBodyBytes({ deep }, "t").catch((e: unknown) => e);
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, "invalid_request");
  });

  it("names the field that is nested too deeply, as the upstream is sent it (tool-call arguments sent as an object)", async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    const shallow = { a: { b: { c: [[[["x"]]]] } } };
    const body = {
      model: "m",
      messages: [
        { role: "user", content: [shallow] },
        { role: "assistant", content: [{ type: "tool_use", input: deep }] },
      ],
    };
    const err = await upstreamBodyBytes(body, "fa").catch((e: unknown) => e);
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, "invalid_request");
    assert.equal(err.param, "messages[1].content[0].input.a");
    assert.match(err.message, /^fa: .*'messages\[1\]\.content\[0\]\.input\.a…'/);
  });
});
