import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ChatRequest, GatewayError } from "../../src/core/index.js";
import { FAKE } from "../../src/privacy/eval/fake-credentials.js";
import {
  classifyRequest,
  type DetectionOptions,
  detectorFor,
  requestTexts,
  resolveSensitivity,
} from "../../src/privacy/index.js";

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

function request(messages: ChatRequest["messages"]): ChatRequest {
  return { model: "auto", stream: true, messages };
}

describe("classifyRequest", () => {
  it("scans the system prompt, text parts, tool-call arguments and tool results, and says where", () => {
    const req = request([
      { role: "system", content: "You help Maria (maria@example.com)." },
      {
        role: "user",
        content: [
          { type: "text", text: "Book a table." },
          { type: "text", text: "Call me on +44 20 7946 0958" },
        ],
      },
      {
        role: "assistant",
        content: [],
        toolCalls: [
          { id: "c1", name: "lookup", arguments: '{"city":"Paris"}' },
          { id: "c2", name: "pay", arguments: '{"note":"line one\\nbob@example.org","card":4111111111111111}' },
        ],
      },
      { role: "tool", toolCallId: "c2", content: [{ type: "text", text: '{"ok":true,"iban":"DE89370400440532013000"}' }] },
    ]);
    const result = classifyRequest(req);
    assert.equal(result.level, "private");
    assert.deepEqual(
      result.findings.map((f) => [f.kind, f.value, f.where]),
      [
        ["email", "maria@example.com", { message: 0, source: "system" }],
        ["phone", "+44 20 7946 0958", { message: 1, source: "text", part: 1 }],
        ["email", "bob@example.org", { message: 2, source: "tool-call", toolCall: 1 }],
        ["payment_card", "4111111111111111", { message: 2, source: "tool-call", toolCall: 1 }],
        ["iban", "DE89370400440532013000", { message: 3, source: "tool-result", part: 0 }],
      ],
    );
    assert.deepEqual(result.counts, { email: 2, phone: 1, payment_card: 1, iban: 1 });
    // In tool-call arguments, offsets are raw offsets into the JSON text.
    const args = req.messages[2]!.role === "assistant" ? req.messages[2]!.toolCalls![1]!.arguments : "";
    const email = result.findings[2]!;
    assert.equal(args.slice(email.start, email.end), "bob@example.org");
  });

  it("decodes JSON strings, so escapes neither hide a value nor join one, and reads keys and values together", () => {
    const args = JSON.stringify({ text: 'say "hi" to\nanna@example.com', password: 'pa"ss\\w0rd!', api_key: FAKE.tokens[1] });
    const result = classifyRequest(
      request([{ role: "assistant", content: [], toolCalls: [{ id: "c", name: "f", arguments: args }] }]),
    );
    assert.deepEqual(
      result.findings.map((f) => [f.kind, f.value]),
      [
        ["email", "anna@example.com"],
        ["secret", 'pa"ss\\w0rd!'],
        ["secret", FAKE.tokens[1]],
      ],
    );
  });

  it("scans a JSON tool result as one text, so a key gives its value context", () => {
    const result = classifyRequest(
      request([
        {
          role: "tool",
          toolCallId: "c",
          content: [{ type: "text", text: JSON.stringify({ order: "555-234-5678", phone: "415-555-2671", note: "tel\n0" }) }],
        },
      ]),
    );
    assert.deepEqual(
      result.findings.map((f) => [f.kind, f.value]),
      [["phone", "415-555-2671"]],
    );
  });

  it("classifies keyword-only requests as internal and custom patterns at their level", () => {
    const options: DetectionOptions = {
      patterns: [
        { name: "ticket", regex: "OPS-\\d{4}", level: "internal" },
        { name: "employee_id", regex: "EMP-\\d{6}" },
      ],
      keywords: [{ words: ["Project Falcon"] }],
    };
    const user = (text: string) => request([{ role: "user", content: [{ type: "text", text }] }]);
    assert.equal(classifyRequest(user("What is the weather in Paris?"), options).level, "public");
    assert.equal(classifyRequest(user("Summarise the project falcon roadmap"), options).level, "internal");
    assert.equal(classifyRequest(user("Close OPS-1234"), options).level, "internal");
    assert.equal(classifyRequest(user("Project Falcon lead is EMP-004211"), options).level, "private");
    assert.deepEqual(classifyRequest(user("Project Falcon lead is EMP-004211"), options).counts, { keyword: 1, employee_id: 1 });
  });

  it("treats images as private unless configured otherwise, and records their media type", () => {
    const req = request([
      {
        role: "user",
        content: [
          { type: "text", text: "What is in this picture?" },
          { type: "image", source: { kind: "base64", mediaType: "image/png", data: PNG } },
          { type: "image", source: { kind: "url", url: "https://example.com/cat.jpg" } },
          { type: "image", source: { kind: "url", url: `data:image/webp;base64,${PNG}` } },
          { type: "image", source: { kind: "url", url: `https://cdn.example.com/a.jpg?token=${FAKE.tokens[4]}` } },
        ],
      },
    ]);
    const result = classifyRequest(req);
    assert.equal(result.level, "private");
    // Image content is not inspected; a URL is, since signed URLs carry tokens.
    assert.deepEqual(
      result.findings.map((f) => [f.kind, f.value, f.where]),
      [["secret", FAKE.tokens[4], { message: 0, source: "image-url", part: 4 }]],
    );
    assert.deepEqual(result.images, [
      { message: 0, part: 1, mediaType: "image/png" },
      { message: 0, part: 2 },
      { message: 0, part: 3, mediaType: "image/webp" },
      { message: 0, part: 4 },
    ]);
    const withoutUrl = request([
      { role: "user", content: req.messages[0]!.role === "user" ? req.messages[0]!.content.slice(0, 4) : [] },
    ]);
    assert.equal(classifyRequest(withoutUrl, { imagesArePrivate: false }).level, "public");
    assert.equal(classifyRequest(req, { imagesArePrivate: false }).level, "private");
  });

  it("lists every text a model reads, and the ids it is sent", () => {
    const req: ChatRequest = {
      ...request([
        { role: "system", content: "sys" },
        { role: "assistant", content: [{ type: "text", text: "a" }], toolCalls: [{ id: "1", name: "t", arguments: "{}" }] },
      ]),
      tools: [{ name: "t", description: "does t", parameters: {} }],
    };
    assert.deepEqual([...requestTexts(req)], ["sys", "a", "{}", "1", "t", "does t"]);
  });
});

describe("resolveSensitivity", () => {
  it("takes the header, else the route's setting, else what was detected", () => {
    assert.equal(resolveSensitivity("private", "public", "public"), "private");
    assert.equal(resolveSensitivity(" Public ", "private", "private"), "public");
    assert.equal(resolveSensitivity(undefined, "internal", "private"), "internal");
    assert.equal(resolveSensitivity("", undefined, "private"), "private");
    assert.equal(resolveSensitivity(undefined, undefined, "internal"), "internal");
  });

  it("rejects a bad header value with a 400 naming the header", () => {
    assert.throws(
      () => resolveSensitivity("secret", undefined, "public"),
      (err: unknown) =>
        err instanceof GatewayError &&
        err.code === "invalid_request" &&
        err.status === 400 &&
        err.param === "x-tandem-sensitivity" &&
        /public, internal, private/.test(err.message),
    );
  });
});

describe("classifyRequest: the fields outside the conversation", () => {
  const EMAIL = ["alice.smith", "acme-corp.com"].join("@");
  const CARD = ["4111", "1111", "1111", "1111"].join(" ");
  const plain = (extra: Partial<ChatRequest>): ChatRequest => ({
    ...request([{ role: "user", content: [{ type: "text", text: "Hi." }] }]),
    ...extra,
  });

  it("reads tool descriptions and every string of their parameter schemas, and says where", () => {
    const found = classifyRequest(
      plain({
        tools: [
          {
            name: "charge",
            description: `Charge ${CARD}.`,
            parameters: { type: "object", properties: { to: { type: "string", enum: [EMAIL] } } },
          },
        ],
      }),
    );
    assert.equal(found.level, "private");
    assert.deepEqual(
      found.findings.map((f) => [f.kind, f.where]),
      [
        ["payment_card", { source: "setting", field: "tools" }],
        ["email", { source: "setting", field: "tools" }],
      ],
    );
  });

  it("reads the output schema, the end-user id, the cache keys and a fill-in-the-middle suffix", () => {
    for (const [extra, field] of [
      [{ responseFormat: { type: "json_schema", schema: { description: `for ${EMAIL}` } } }, "response_format"],
      [{ user: EMAIL }, "user"],
      [{ promptCacheKey: `k ${CARD}` }, "prompt_cache_key"],
      [{ safetyIdentifier: EMAIL }, "safety_identifier"],
      [{ completion: { prompt: "send_to(", suffix: `)  # ${EMAIL}` } }, "suffix"],
    ] as const) {
      const found = classifyRequest(plain(extra as Partial<ChatRequest>));
      assert.equal(found.level, "private", field);
      assert.deepEqual(found.findings[0]?.where, { source: "setting", field });
    }
  });

  it("reads a same-wire body's tools, user and metadata keys, not the credentials a tool gives its provider", () => {
    const native = (body: Record<string, unknown>): ChatRequest =>
      plain({ native: { wire: "openai-responses", body, headers: {}, lost: () => [] } });
    assert.equal(classifyRequest(native({ user: EMAIL })).level, "private");
    assert.equal(classifyRequest(native({ metadata: { [EMAIL]: "owner" } })).level, "private");
    assert.equal(
      classifyRequest(native({ tools: [{ type: "function", name: "f", description: `Card ${CARD}` }] })).level,
      "private",
    );
    const token = "AKIAQ3EGV4XBZJ7KM2PA";
    const mcp = [
      { type: "mcp", server_url: "https://mcp.example.com", authorization: token, headers: { Authorization: `Bearer ${token}` } },
    ];
    assert.equal(classifyRequest(native({ tools: mcp })).level, "public");
    assert.equal(
      classifyRequest(native({ mcp_servers: [{ type: "url", url: "https://mcp.example.com", authorization_token: token }] }))
        .level,
      "public",
    );
  });

  it("a no-reply address, as an agent's tool description quotes one, is no one's", () => {
    const found = classifyRequest(
      plain({
        tools: [
          {
            name: "Bash",
            description: "End commit messages with: Co-Authored-By: Claude <noreply@anthropic.com>",
            parameters: {},
          },
        ],
      }),
    );
    assert.equal(found.level, "public");
  });
});

describe("classifyRequest: tool names and MCP credentials", () => {
  const plain = (body: Record<string, unknown>): ChatRequest => ({
    model: "auto",
    stream: false,
    messages: [{ role: "user", content: [{ type: "text", text: "Hi." }] }],
    native: { wire: "openai-chat", body, headers: {}, lost: () => [] },
  });
  const EMAIL = ["alice.smith", "acme-corp.com"].join("@");

  it("leaves a tool's name unread (the model calls it by it), but not a schema property named like a credential", () => {
    const keyword = { keywords: [{ name: "project", words: ["falcon"], level: "private" as const }] };
    const named = plain({ tools: [{ type: "function", function: { name: "falcon", parameters: {} } }] });
    assert.equal(classifyRequest(named, keyword).level, "public");
    const described = plain({ tools: [{ type: "function", function: { name: "f", description: "falcon", parameters: {} } }] });
    assert.equal(classifyRequest(described, keyword).level, "private", "the keyword is found where it is read");
    const schema = plain({
      tools: [
        {
          type: "function",
          function: {
            name: "http",
            parameters: { type: "object", properties: { headers: { type: "object", description: `e.g. From: ${EMAIL}` } } },
          },
        },
      ],
    });
    assert.equal(classifyRequest(schema).level, "private");
  });

  it("so too a deprecated function's name and a function_call naming it (chat's legacy functions API)", () => {
    const keyword = { keywords: [{ name: "project", words: ["falcon"], level: "private" as const }] };
    const named = plain({ functions: [{ name: "falcon", parameters: {} }], function_call: { name: "falcon" } });
    assert.equal(classifyRequest(named, keyword).level, "public");
    const described = plain({ functions: [{ name: "f", description: "falcon" }] });
    assert.equal(classifyRequest(described, keyword).level, "private", "the keyword is found where it is read");
  });
});

describe("classifyRequest: stop sequences, ids, names and every string of the client's body", () => {
  const EMAIL = ["alice.smith", "acme-corp.com"].join("@");
  const CARD = ["4111", "1111", "1111", "1111"].join("");
  /** As a provider issues them: random, and high-entropy enough to read as a credential in text. */
  const PROVIDER_ID = "call_Xq7pLm2Zr9Tk4Wn8Bv3Hs6Yd";
  const hi: ChatRequest["messages"] = [{ role: "user", content: [{ type: "text", text: "Hi." }] }];
  const toolTurn = (id: string): ChatRequest["messages"] => [
    ...hi,
    { role: "assistant", content: [], toolCalls: [{ id, name: "weather", arguments: "{}" }] },
    { role: "tool", toolCallId: id, content: [{ type: "text", text: "Sunny." }] },
  ];
  const native = (
    wire: "openai-chat" | "anthropic-messages" | "openai-responses",
    body: Record<string, unknown>,
  ): ChatRequest => ({
    model: "auto",
    stream: false,
    messages: hi,
    native: { wire, body, headers: {}, lost: () => [] },
  });

  it("reads the canonical stop sequences", () => {
    const found = classifyRequest({ ...request(hi), stop: ["END", `mail ${EMAIL}`] });
    assert.equal(found.level, "private");
    assert.deepEqual(found.findings[0]?.where, { source: "setting", field: "stop" });
  });

  it("reads tool call ids as identifiers: a value in one is found, a provider's random id is no credential", () => {
    const found = classifyRequest(request(toolTurn(EMAIL)));
    assert.equal(found.level, "private");
    assert.deepEqual(
      found.findings.map((f) => [f.kind, f.where]),
      [["email", { source: "id" }]],
      "one id, read once though it is on the call and on its result",
    );
    assert.equal(classifyRequest(request(toolTurn(PROVIDER_ID))).level, "public");
    assert.equal(classifyRequest(request([{ role: "user", content: [{ type: "text", text: PROVIDER_ID }] }])).level, "private");
  });

  it("reads a schema's property names, the reasoning of earlier turns and a file's name", () => {
    const keyed = classifyRequest({
      ...request(hi),
      tools: [{ name: "f", parameters: { type: "object", properties: { [EMAIL]: { type: "string" } } } }],
    });
    assert.deepEqual(
      keyed.findings.map((f) => [f.kind, f.value, f.where]),
      [["email", EMAIL, { source: "setting", field: "tools" }]],
    );
    const reasoned = classifyRequest(
      request([
        ...hi,
        { role: "assistant", content: [{ type: "text", text: "ok" }], reasoning: [{ type: "reasoning", text: `card ${CARD}` }] },
      ]),
    );
    assert.deepEqual(reasoned.findings[0]?.where, { message: 1, source: "reasoning", part: 0 });
    const named = classifyRequest(
      request([
        {
          role: "user",
          content: [{ type: "file", mediaType: "text/plain", data: "aGk=", filename: `notes for ${EMAIL}`, text: "hi" }],
        },
      ]),
    );
    assert.equal(named.level, "private");
  });

  it("reads every key and string of a client's body, stop sequences and ids included", () => {
    for (const body of [
      { stop: [CARD] },
      { stop: `mail ${EMAIL}` },
      { logit_bias: { [CARD]: 5 } },
      { web_search_options: { user_location: { approximate: { city: EMAIL } } } },
      { future_field: { [EMAIL]: true } },
      { messages: [{ role: "tool", tool_call_id: EMAIL, content: "ok" }] },
    ])
      assert.equal(classifyRequest(native("openai-chat", body)).level, "private", JSON.stringify(body));
    assert.equal(classifyRequest(native("anthropic-messages", { stop_sequences: [CARD] })).level, "private");
    assert.equal(
      classifyRequest(native("openai-responses", { input: [{ type: "function_call_output", call_id: EMAIL, output: "ok" }] }))
        .level,
      "private",
    );
  });

  it("leaves unread what body-strings.ts lists: the model, the tool choice, a provider's bytes and ids' entropy", () => {
    const body = {
      model: EMAIL,
      tool_choice: { type: "function", function: { name: EMAIL } },
      input: [
        { type: "reasoning", id: "rs_8f2a", encrypted_content: `gAAAA${PROVIDER_ID}`, summary: [] },
        { type: "function_call", call_id: PROVIDER_ID, name: "weather", arguments: "{}" },
      ],
      messages: [{ role: "assistant", content: [{ type: "thinking", thinking: "hm", signature: PROVIDER_ID }] }],
      previous_response_id: "resp_Xq7pLm2Zr9Tk4Wn8Bv3Hs6Yd",
    };
    const found = classifyRequest(native("openai-responses", body));
    assert.deepEqual(found.findings, []);
    assert.equal(found.level, "public");
  });

  it("lists the body's keys and ids among the texts placeholders avoid", () => {
    const texts = [...requestTexts(native("openai-chat", { logit_bias: { "50256": -100 }, messages: [{ tool_call_id: "c1" }] }))];
    for (const text of ["logit_bias", "50256", "tool_call_id", "c1"]) assert.ok(texts.includes(text), text);
  });
});

describe("SensitiveDataDetector.detectIdentifier", () => {
  const CARD = ["4111", "1111", "1111", "1111"].join("");
  const detector = detectorFor({});

  it("finds a value joined to an id's prefix by an underscore, as the id's own text", () => {
    assert.deepEqual(
      detector.detectIdentifier(`call_${CARD}`).map((f) => [f.kind, f.value]),
      [["payment_card", CARD]],
    );
    assert.deepEqual(detector.detectIdentifier("toolu_01XFDUDYJgAACzvnptvVoYEL"), []);
  });

  it("keeps what a pattern with underscores finds", () => {
    const custom = detectorFor({ patterns: [{ name: "employee_id", regex: "EMP_\\d{6}" }] });
    assert.deepEqual(
      custom.detectIdentifier("ticket_EMP_123456").map((f) => [f.kind, f.value]),
      [["employee_id", "EMP_123456"]],
    );
  });
});
