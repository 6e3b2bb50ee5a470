import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ChatRequest, fromBatches, type StreamEvent, takeReady } from "../../src/core/index.js";
import { FAKE } from "../../src/privacy/eval/fake-credentials.js";
import { classifyRequest, Redaction } from "../../src/privacy/index.js";

async function* streamOf(events: readonly StreamEvent[]): AsyncGenerator<StreamEvent> {
  for (const event of events) yield event;
}

async function* streamOfBatches(batches: readonly StreamEvent[][]): AsyncGenerator<StreamEvent[]> {
  for (const batch of batches) yield batch;
}

async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

const text = (delta: string): StreamEvent => ({ type: "text-delta", text: delta });
const args = (index: number, argumentsDelta: string): StreamEvent => ({ type: "tool-call-delta", index, argumentsDelta });

function sampleRequest(): ChatRequest {
  return {
    model: "redacted",
    stream: true,
    temperature: 0.2,
    tools: [{ name: "send_email", description: "Sends an e-mail", parameters: { type: "object" } }],
    messages: [
      { role: "system", content: "You write e-mails for maria@example.com." },
      {
        role: "user",
        content: [
          { type: "text", text: "Tell bob@example.org my card 4111 1111 1111 1111 was charged twice. I'm maria@example.com." },
          { type: "image", source: { kind: "base64", mediaType: "image/png", data: "iVBORw0KGgo=" } },
        ],
      },
      {
        role: "assistant",
        content: [{ type: "text", text: "Sending now." }],
        toolCalls: [
          {
            id: "call_1",
            name: "send_email",
            arguments: '{"to": "bob@example.org", "cc": ["maria@example.com"], "amount": 12.50, "card": 4111111111111111}',
          },
        ],
      },
      { role: "tool", toolCallId: "call_1", content: [{ type: "text", text: '{"status": "sent", "to": "bob@example.org"}' }] },
    ],
  };
}

describe("Redaction.redactRequest", () => {
  it("replaces every value by a stable placeholder, in a deep copy, leaving the input alone", () => {
    const request = sampleRequest();
    const before = structuredClone(request);
    const redaction = Redaction.forRequest(request, classifyRequest(request));
    const redacted = redaction.redactRequest(request);

    assert.deepEqual(request, before, "input unchanged");
    assert.notEqual(redacted.tools, request.tools);
    assert.equal(redacted.temperature, 0.2);
    assert.deepEqual(redacted.messages[0], { role: "system", content: "You write e-mails for [EMAIL_1]." });
    const user = redacted.messages[1]!;
    assert.equal(user.role, "user");
    assert.deepEqual(user.content[0], {
      type: "text",
      text: "Tell [EMAIL_2] my card [CARD_1] was charged twice. I'm [EMAIL_1].",
    });
    assert.deepEqual(user.content[1], request.messages[1]!.role === "user" ? request.messages[1]!.content[1] : undefined);
    const assistant = redacted.messages[2]!;
    assert.ok(assistant.role === "assistant");
    const callArgs = assistant.toolCalls![0]!.arguments;
    // Valid JSON, untouched formatting elsewhere, the bare card number now a quoted placeholder.
    assert.equal(callArgs, '{"to": "[EMAIL_2]", "cc": ["[EMAIL_1]"], "amount": 12.50, "card": "[CARD_2]"}');
    assert.deepEqual(JSON.parse(callArgs), { to: "[EMAIL_2]", cc: ["[EMAIL_1]"], amount: 12.5, card: "[CARD_2]" });
    const tool = redacted.messages[3]!;
    assert.ok(tool.role === "tool");
    assert.deepEqual(tool.content[0], { type: "text", text: '{"status": "sent", "to": "[EMAIL_2]"}' });

    const serialized = JSON.stringify(redacted);
    for (const value of ["maria@example.com", "bob@example.org", "4111 1111 1111 1111", "4111111111111111"]) {
      assert.ok(!serialized.includes(value), value);
    }
    assert.deepEqual(redaction.summary(), { values: 4, byKind: { email: 2, payment_card: 2 }, replacements: 8 });
    assert.ok(!JSON.stringify(redaction.summary()).includes("@"));
  });

  it("keeps tool-call arguments valid JSON when a value holds quotes, backslashes or newlines", () => {
    const password = 'pa"ss\\w0rd!\nx';
    const argsJson = JSON.stringify({ user: "admin", password, note: `again: ${password}` });
    const redaction = new Redaction([{ kind: "secret", value: password }]);
    const redacted = redaction.redactJson(argsJson);
    assert.deepEqual(JSON.parse(redacted), { user: "admin", password: "[SECRET_1]", note: "again: [SECRET_1]" });
    const restored = redaction.rehydrateJson(redacted);
    assert.deepEqual(JSON.parse(restored), { user: "admin", password, note: `again: ${password}` });
  });

  it("quotes a bare JSON number it replaces, so it comes back as a string", () => {
    const redaction = new Redaction([{ kind: "payment_card", value: "4111111111111111" }]);
    const redacted = redaction.redactJson('{"card":4111111111111111,"n":41111111111111112}');
    assert.equal(redacted, '{"card":"[CARD_1]","n":41111111111111112}');
    assert.equal(redaction.rehydrateJson(redacted), '{"card":"4111111111111111","n":41111111111111112}');
  });

  it("switches to a tagged placeholder style when the request already contains placeholder-shaped text", () => {
    const request: ChatRequest = {
      model: "m",
      stream: false,
      messages: [
        { role: "user", content: [{ type: "text", text: "The log says [email_1] and [CARD_2]; mine is ann@example.com" }] },
      ],
    };
    const redaction = Redaction.forRequest(request, classifyRequest(request));
    const redacted = redaction.redactRequest(request).messages[0]!;
    assert.ok(redacted.role === "user");
    const redactedText = redacted.content[0]!.type === "text" ? redacted.content[0]!.text : "";
    assert.equal(redactedText, "The log says [email_1] and [CARD_2]; mine is [EMAIL_1_R1]");
    // The user's own bracketed text survives rehydration; only the issued placeholder is restored.
    assert.equal(redaction.rehydrateText(redactedText), "The log says [email_1] and [CARD_2]; mine is ann@example.com");
  });

  it("does nothing when there is nothing to redact", async () => {
    const redaction = new Redaction([]);
    const request = sampleRequest();
    assert.deepEqual(redaction.redactRequest(request), request);
    assert.equal(redaction.rehydrateText("[EMAIL_1]"), "[EMAIL_1]");
    const events = [text("[EMAIL_1]"), { type: "finish", reason: "stop" } as const];
    assert.deepEqual(await collect(redaction.rehydrateStream(streamOf(events))), events);
  });
});

describe("Redaction.redactRequest: the fields outside the conversation", () => {
  const EMAIL = ["alice.smith", "acme-corp.com"].join("@");
  const request: ChatRequest = {
    model: "auto",
    stream: false,
    messages: [{ role: "user", content: [{ type: "text", text: "Hi." }] }],
    tools: [
      { name: "mail", description: `Mail ${EMAIL}`, parameters: { type: "object", properties: { to: { default: EMAIL } } } },
    ],
    responseFormat: { type: "json_schema", schema: { description: `For ${EMAIL}` } },
    user: EMAIL,
    promptCacheKey: "team-a",
    safetyIdentifier: `h-${EMAIL}`,
  };

  it("replaces values in tools and the output schema, leaves out ids that hold one, and names them", () => {
    const redaction = Redaction.forRequest(request, classifyRequest(request));
    const dropped: string[] = [];
    const out = redaction.redactRequest(request, dropped);
    const text = JSON.stringify(out);
    assert.ok(!text.includes(EMAIL), text);
    assert.equal(out.tools?.[0]?.description, "Mail [EMAIL_1]");
    assert.equal(out.user, undefined);
    assert.equal(out.safetyIdentifier, undefined);
    assert.equal(out.promptCacheKey, "team-a");
    assert.deepEqual(dropped, ["user", "safety_identifier"]);
    assert.equal(request.user, EMAIL, "the input is not modified");
  });

  it("redacts a raw prompt and leaves out its token ids, which say it unredacted", () => {
    const raw: ChatRequest = {
      ...request,
      messages: [{ role: "user", content: [{ type: "text", text: `Mail ${EMAIL}` }] }],
      completion: { prompt: `Mail ${EMAIL}`, tokens: [1, 2, 3], tokensThen: ` and ${EMAIL}`, echo: "text" },
    };
    const out = Redaction.forRequest(raw, classifyRequest(raw)).redactRequest(raw);
    assert.deepEqual(out.completion, { prompt: "Mail [EMAIL_1]", echo: "text" });
  });
});

describe("Redaction: stop sequences, tool call ids and names", () => {
  const EMAIL = ["alice.smith", "acme-corp.com"].join("@");
  const CARD = ["4111", "1111", "1111", "1111"].join("");
  const request: ChatRequest = {
    model: "auto",
    stream: false,
    messages: [
      {
        role: "user",
        content: [{ type: "file", mediaType: "text/plain", data: "aGk=", filename: `notes for ${EMAIL}`, text: "hi" }],
      },
      { role: "assistant", content: [], toolCalls: [{ id: `call_${EMAIL}`, name: "weather", arguments: "{}" }] },
      { role: "tool", toolCallId: `call_${EMAIL}`, content: [{ type: "text", text: "Sunny." }] },
      { role: "assistant", content: [], toolCalls: [{ id: "call_2", name: "weather", arguments: "{}" }] },
      { role: "tool", toolCallId: "call_2", content: [{ type: "text", text: "Rain." }] },
    ],
    tools: [{ name: "weather", parameters: { type: "object", properties: { [EMAIL]: { type: "string" } } } }],
    stop: [CARD, "END"],
  };

  it("replaces an id that holds a value whole, the same on the call and its result, and leaves others", () => {
    const redaction = Redaction.forRequest(request, classifyRequest(request));
    const dropped: string[] = [];
    const out = redaction.redactRequest(request, dropped);
    assert.ok(!JSON.stringify(out).includes(EMAIL) && !JSON.stringify(out).includes(CARD), JSON.stringify(out));
    const [, call, result, other, otherResult] = out.messages;
    const id = call?.role === "assistant" ? call.toolCalls?.[0]?.id : undefined;
    assert.match(id ?? "", /^redacted_id_\d+$/);
    assert.equal(result?.role === "tool" && result.toolCallId, id);
    assert.equal(other?.role === "assistant" && other.toolCalls?.[0]?.id, "call_2");
    assert.equal(otherResult?.role === "tool" && otherResult.toolCallId, "call_2");
    assert.deepEqual(out.stop, ["END"], "the stop sequence that holds a value is left out");
    assert.deepEqual(dropped, ["stop"]);
    assert.deepEqual(Object.keys((out.tools?.[0]?.parameters.properties ?? {}) as object), ["[EMAIL_1]"]);
    const file = out.messages[0]?.role === "user" ? out.messages[0].content[0] : undefined;
    assert.equal(file?.type === "file" && file.filename, "notes for [EMAIL_1]");
  });

  it("chooses a stand-in no text of the request holds", () => {
    const clash: ChatRequest = {
      ...request,
      messages: [...request.messages, { role: "user", content: [{ type: "text", text: "redacted_id_1" }] }],
    };
    const out = Redaction.forRequest(clash, classifyRequest(clash)).redactRequest(clash);
    const call = out.messages[1];
    assert.match(call?.role === "assistant" ? (call.toolCalls?.[0]?.id ?? "") : "", /^redacted_id_r1_1$/);
  });

  it("in a client's body, replaces the ids of the wire's id fields whole and values elsewhere by placeholders", () => {
    const redaction = new Redaction([{ kind: "email", value: EMAIL }]);
    const body = {
      messages: [
        { role: "assistant", tool_calls: [{ id: EMAIL, function: { name: "f", arguments: `{"to":"${EMAIL}"}` } }] },
        { role: "tool", tool_call_id: EMAIL, content: `sent to ${EMAIL}` },
      ],
    };
    const out = redaction.redactJsonValue(body, new Set(["id", "tool_call_id"]));
    assert.deepEqual(out, {
      messages: [
        { role: "assistant", tool_calls: [{ id: "redacted_id_1", function: { name: "f", arguments: '{"to":"[EMAIL_1]"}' } }] },
        { role: "tool", tool_call_id: "redacted_id_1", content: "sent to [EMAIL_1]" },
      ],
    });
  });
});

describe("Redaction.rehydrate", () => {
  const redaction = new Redaction([
    { kind: "email", value: "ann@example.com" },
    { kind: "phone", value: "+44 20 7946 0958" },
    { kind: "secret", value: FAKE.stripeLive },
  ]);

  it("restores placeholders exactly and case-insensitively, and leaves unknown ones", () => {
    assert.equal(
      redaction.rehydrateText("Mail [EMAIL_1] or call [phone_1]; [Secret_1] is the key; [EMAIL_9] and [EMAIL_1 stay."),
      `Mail ann@example.com or call +44 20 7946 0958; ${FAKE.stripeLive} is the key; [EMAIL_9] and [EMAIL_1 stay.`,
    );
  });

  it("restores the events of one upstream read together, and hands them on as one batch", async () => {
    const events: StreamEvent[] = [
      { type: "start", id: "r1" },
      text("Write to [EM"),
      text("AIL_1] or [PHONE_"),
      text("1]."),
      { type: "finish", reason: "stop" },
    ];
    const oneRead = fromBatches(streamOfBatches([events]));
    const restored = redaction.rehydrateStream(oneRead)[Symbol.asyncIterator]();
    const first = await restored.next();
    assert.deepEqual(first, { done: false, value: { type: "start", id: "r1" } });
    assert.deepEqual(takeReady(restored), [
      text("Write to "),
      text("ann@example.com or "),
      text("+44 20 7946 0958."),
      { type: "finish", reason: "stop" },
    ]);
    assert.deepEqual(await restored.next(), { done: true, value: undefined });
  });

  it("restores values in a stream as soon as a placeholder is complete, holding back only what could still be one", async () => {
    const out = await collect(
      redaction.rehydrateStream(
        streamOf([
          { type: "start", id: "r1" },
          text("Write to [EM"),
          text("AIL_1"),
          { type: "usage", usage: { inputTokens: 10 } },
          text("] today ["),
          text("x] or [PHONE_"),
          text("1]."),
          { type: "finish", reason: "stop" },
        ]),
      ),
    );
    assert.deepEqual(out, [
      { type: "start", id: "r1" },
      text("Write to "),
      { type: "usage", usage: { inputTokens: 10 } },
      text("ann@example.com today "),
      text("[x] or "),
      text("+44 20 7946 0958."),
      { type: "finish", reason: "stop" },
    ]);
  });

  it("flushes a held tail at finish, before a switch, and at the end of a stream without finish", async () => {
    assert.deepEqual(
      await collect(redaction.rehydrateStream(streamOf([text("ends with [EMA"), { type: "finish", reason: "length" }]))),
      [text("ends with "), text("[EMA"), { type: "finish", reason: "length" }],
    );
    const switched: StreamEvent = { type: "switch", from: "a/x", to: "b/y", reason: "timeout" };
    assert.deepEqual(await collect(redaction.rehydrateStream(streamOf([text("so far [PH"), switched, text("ONE_1]")]))), [
      text("so far "),
      text("[PH"),
      switched,
      text("ONE_1]"),
    ]);
    assert.deepEqual(await collect(redaction.rehydrateStream(streamOf([text("cut [SECRET_")]))), [
      text("cut "),
      text("[SECRET_"),
    ]);
  });

  it("keeps every token logprob, moving those of held-back text to the text released with it", async () => {
    const token = (t: string) => ({ token: t, logprob: -0.5, topLogprobs: [] });
    const scored = (delta: string, ...tokens: string[]): StreamEvent => ({
      type: "text-delta",
      text: delta,
      logprobs: tokens.map(token),
    });
    const out = await collect(
      redaction.rehydrateStream(
        streamOf([
          scored("Write to [EM", "Write", " to", " [EM"),
          scored("AIL", "AIL"),
          scored("_1] now", "_1]", " now"),
          scored("x [PHO", "x", " [PHO"),
          { type: "finish", reason: "length" },
        ]),
      ),
    );
    assert.deepEqual(out, [
      scored("Write to ", "Write", " to", " [EM"),
      scored("ann@example.com now", "AIL", "_1]", " now"),
      scored("x ", "x", " [PHO"),
      text("[PHO"),
      { type: "finish", reason: "length" },
    ]);
    // Tokens of text still held when the stream ends go out with it.
    assert.deepEqual(await collect(redaction.rehydrateStream(streamOf([scored("[SECRET_", "[SECRET_")]))), [
      scored("[SECRET_", "[SECRET_"),
    ]);
  });

  it("restores tool-call arguments per call, escaping values inside JSON strings, flushing at tool-call-end", async () => {
    const tricky = new Redaction([
      { kind: "secret", value: 'pa"ss\\word' },
      { kind: "email", value: "ann@example.com" },
    ]);
    const out = await collect(
      tricky.rehydrateStream(
        streamOf([
          text("Calling tools. [SEC"),
          { type: "tool-call-start", index: 0, id: "c0", name: "login" },
          args(0, '{"user":"[EMAIL'),
          { type: "tool-call-start", index: 1, id: "c1", name: "notify" },
          args(1, '{"to":"[EMAIL_1]"'),
          args(0, '_1]","password":"[SECRET_'),
          args(1, ', "raw": [SECRET_1]}'),
          args(0, '1]"'),
          { type: "tool-call-end", index: 1 },
          args(0, "}"),
          { type: "tool-call-end", index: 0 },
          { type: "finish", reason: "tool_calls" },
        ]),
      ),
    );
    assert.deepEqual(out, [
      text("Calling tools. "),
      text("[SEC"),
      { type: "tool-call-start", index: 0, id: "c0", name: "login" },
      args(0, '{"user":"'),
      { type: "tool-call-start", index: 1, id: "c1", name: "notify" },
      args(1, '{"to":"ann@example.com"'),
      args(0, 'ann@example.com","password":"'),
      args(1, ', "raw": "pa\\"ss\\\\word"}'),
      args(0, 'pa\\"ss\\\\word"'),
      { type: "tool-call-end", index: 1 },
      args(0, "}"),
      { type: "tool-call-end", index: 0 },
      { type: "finish", reason: "tool_calls" },
    ]);
    const call0 = out
      .filter((e) => e.type === "tool-call-delta" && e.index === 0)
      .map((e) => (e.type === "tool-call-delta" ? e.argumentsDelta : ""));
    assert.deepEqual(JSON.parse(call0.join("")), { user: "ann@example.com", password: 'pa"ss\\word' });
  });

  it("stops the source when the consumer stops early", async () => {
    let finished = false;
    async function* source(): AsyncGenerator<StreamEvent> {
      try {
        yield text("one [EMAIL_1]");
        yield text(" two");
        yield text(" three");
      } finally {
        finished = true;
      }
    }
    for await (const event of redaction.rehydrateStream(source())) {
      assert.deepEqual(event, text("one ann@example.com"));
      break;
    }
    assert.ok(finished);
  });
});
