import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { StreamEvent } from "../../src/core/index.js";
import { FAKE } from "../../src/privacy/eval/fake-credentials.js";
import { type FindingKind, Redaction } from "../../src/privacy/index.js";

/** Values of every kind, some with characters JSON must escape. */
const CANARIES: readonly { kind: FindingKind; value: string }[] = [
  { kind: "email", value: "ann@example.com" },
  { kind: "email", value: "bob.smith+x@mail.example.org" },
  { kind: "payment_card", value: "4111 1111 1111 1111" },
  { kind: "iban", value: "DE89 3704 0044 0532 0130 00" },
  { kind: "phone", value: "+44 20 7946 0958" },
  { kind: "ssn", value: "123-45-6789" },
  { kind: "ip_address", value: "2001:db8::1" },
  { kind: "secret", value: FAKE.stripeLive },
  { kind: "secret", value: 'pa"ss\\w0rd!' },
  { kind: "secret", value: "two\nlines\ttabbed" },
  { kind: "token", value: FAKE.tokens[0]! },
  { kind: "codename", value: "Project Falcon" },
];

/** Text around the canaries: anything, plus fragments that look like placeholders or parts of them. */
const filler = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 6 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "[",
      "]",
      "[EMAIL_1]",
      "[email_1]",
      "[CARD_",
      "_R1]",
      "[EMAIL_1_R1]",
      "[SECRET_1",
      '"',
      "\\",
      "[[",
      " ",
    ),
  },
);

const canary = fc.constantFrom(...CANARIES);

/** A text of filler and canaries, and the canaries it holds. */
const textWithCanaries = fc
  .array(fc.tuple(filler, fc.option(canary, { nil: undefined })), { minLength: 1, maxLength: 12 })
  .map((pieces) => {
    const used = pieces.flatMap(([, c]) => (c === undefined ? [] : [c]));
    return { text: pieces.map(([f, c]) => f + (c?.value ?? "")).join(""), used };
  });

/** Cut points for splitting a string into chunks. */
function chunk(text: string, cuts: readonly number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const p of points) {
    out.push(text.slice(from, p));
    from = p;
  }
  out.push(text.slice(from));
  return out;
}

async function* streamOf(events: readonly StreamEvent[]): AsyncGenerator<StreamEvent> {
  for (const event of events) yield event;
}

describe("redaction properties", () => {
  it("redact then rehydrate gives the original back, and the redacted text holds none of the values", () => {
    fc.assert(
      fc.property(textWithCanaries, ({ text, used }) => {
        const redaction = new Redaction(used, { avoid: [text] });
        const redacted = redaction.redactText(text);
        for (const { value } of used)
          assert.ok(!redacted.includes(value), `${JSON.stringify(value)} left in ${JSON.stringify(redacted)}`);
        assert.equal(redaction.rehydrateText(redacted), text);
      }),
      { numRuns: 500 },
    );
  });

  it("any chunking of a stream rehydrates to the rehydrated text, releasing all but a possible placeholder prefix at once", async () => {
    await fc.assert(
      fc.asyncProperty(textWithCanaries, fc.array(fc.nat(), { maxLength: 20 }), async ({ text, used }, cuts) => {
        const redaction = new Redaction(used, { avoid: [text] });
        const redacted = redaction.redactText(text);
        const chunks = chunk(redacted, cuts);
        const placeholders = used.map((c) => redaction.placeholderFor(c.value)!.toUpperCase());

        // Step by step: what is released is everything but a tail that could still become a placeholder.
        const restorer = redaction.createRestorer();
        let input = "";
        let released = "";
        for (const piece of chunks) {
          input += piece;
          released += restorer.push(piece);
          const whole = redaction.rehydrateText(input);
          assert.ok(whole.startsWith(released), "released text is final");
          const held = whole.slice(released.length);
          assert.ok(input.endsWith(held), "only raw input is held");
          if (held !== "") {
            assert.ok(held.startsWith("["), `holds ${JSON.stringify(held)}`);
            assert.ok(
              placeholders.some((p) => p.startsWith(held.toUpperCase()) && p.length > held.length),
              `holds ${JSON.stringify(held)}, which cannot become a placeholder`,
            );
          }
        }
        assert.equal(released + restorer.flush(), text);

        // Through the event stream, with other events in between.
        const events: StreamEvent[] = [{ type: "start" }];
        for (const piece of chunks)
          events.push({ type: "text-delta", text: piece }, { type: "usage", usage: { outputTokens: 1 } });
        events.push({ type: "finish", reason: "stop" });
        let streamed = "";
        let usage = 0;
        for await (const event of redaction.rehydrateStream(streamOf(events))) {
          if (event.type === "text-delta") streamed += event.text;
          if (event.type === "usage") usage++;
        }
        assert.equal(streamed, text);
        assert.equal(usage, chunks.length);
      }),
      { numRuns: 300 },
    );
  });

  it("tool-call arguments stay valid JSON through redaction and streamed rehydration", async () => {
    const member = fc.tuple(fc.string({ maxLength: 8 }), textWithCanaries);
    await fc.assert(
      fc.asyncProperty(
        fc.array(member, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 15 }),
        async (members, cuts) => {
          const object = Object.fromEntries(members.map(([key, { text }], i) => [`${key}${i}`, text]));
          const used = members.flatMap(([, m]) => m.used);
          const json = JSON.stringify(object);
          const redaction = new Redaction(used, { avoid: [json] });
          const redacted = redaction.redactJson(json);
          assert.doesNotThrow(() => JSON.parse(redacted), redacted);
          for (const { value } of used) assert.ok(!redacted.includes(JSON.stringify(value).slice(1, -1)));
          assert.deepEqual(JSON.parse(redaction.rehydrateJson(redacted)), object);

          const events: StreamEvent[] = [{ type: "tool-call-start", index: 0, id: "c", name: "f" }];
          for (const piece of chunk(redacted, cuts)) events.push({ type: "tool-call-delta", index: 0, argumentsDelta: piece });
          events.push({ type: "tool-call-end", index: 0 });
          let streamed = "";
          for await (const event of redaction.rehydrateStream(streamOf(events))) {
            if (event.type === "tool-call-delta") streamed += event.argumentsDelta;
          }
          assert.deepEqual(JSON.parse(streamed), object);
        },
      ),
      { numRuns: 300 },
    );
  });
});
