import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { GatewayError } from "../../../src/core/index.js";
import { type DialectApp, StubGateway, startDialectApp, TARGET } from "./stub-gateway.js";

let app: DialectApp;
let client: OpenAI;

before(async () => {
  app = await startDialectApp();
  client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
});

after(() => app.close());

beforeEach(() => {
  app.gateway.embedRequests.length = 0;
  app.gateway.embedScript = new StubGateway().embedScript;
});

async function post(body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${app.url}/v1/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("POST /v1/embeddings", () => {
  it("works with the SDK's default (base64, decoded as little-endian float32)", async () => {
    const { data, response } = await client.embeddings
      .create({ model: "auto", input: ["one", "two"], dimensions: 3, user: "u1" })
      .withResponse();
    assert.equal(data.object, "list");
    assert.equal(data.model, TARGET);
    assert.deepEqual(data.usage, { prompt_tokens: 7, total_tokens: 7 });
    assert.deepEqual(
      data.data.map((d) => [d.object, d.index, d.embedding]),
      [
        ["embedding", 0, [0.1, -0.25, 1 / 3].map(Math.fround)],
        ["embedding", 1, [0.2, -0.25, 1 / 3].map(Math.fround)],
      ],
    );
    assert.deepEqual(app.gateway.embedRequests[0], { model: "auto", input: ["one", "two"], dimensions: 3, user: "u1" });
    assert.equal(response.headers.get("x-tandem-target"), TARGET);
  });

  it("answers the exact floats with encoding_format float", async () => {
    const data = await client.embeddings.create({ model: "auto", input: "one", encoding_format: "float" });
    assert.deepEqual(data.data[0]?.embedding, [0.1, -0.25, 1 / 3]);
    assert.deepEqual(app.gateway.embedRequests[0]?.input, ["one"]);
  });

  it("encodes base64 as little-endian float32 bytes", async () => {
    const res = await post({ model: "auto", input: "one", encoding_format: "base64" });
    const item = (res.json.data as { embedding: string }[])[0];
    assert.equal(typeof item?.embedding, "string");
    const bytes = Buffer.from(item?.embedding ?? "", "base64");
    assert.equal(bytes.length, 12);
    assert.equal(bytes.readFloatLE(4), -0.25);
  });

  it("renders gateway errors in OpenAI's shape", async () => {
    app.gateway.embedScript = () => new GatewayError("rate_limited", "Too many", { retryAfterMs: 1000 });
    await assert.rejects(
      client.embeddings.create({ model: "auto", input: "x" }),
      (err: unknown) => err instanceof OpenAI.RateLimitError && err.code === "rate_limit_exceeded",
    );
  });

  const cases: [string, Record<string, unknown>, string][] = [
    ["ids that are no cl100k_base tokens", { model: "auto", input: [1, -2, 3] }, "input"],
    ["nested ids that are no tokens", { model: "auto", input: [[1, 2], [0.5]] }, "input[1]"],
    ["strings and ids mixed", { model: "auto", input: ["a", 3] }, "input[1]"],
    ["empty list", { model: "auto", input: [] }, "input"],
    ["empty string", { model: "auto", input: "" }, "input"],
    ["missing input", { model: "auto" }, "input"],
    ["bad encoding_format", { model: "auto", input: "x", encoding_format: "hex" }, "encoding_format"],
    ["bad dimensions", { model: "auto", input: "x", dimensions: 0 }, "dimensions"],
    ["missing model", { input: "x" }, "model"],
  ];
  for (const [label, body, param] of cases) {
    it(`rejects ${label} with a 400 naming '${param}'`, async () => {
      const res = await post(body);
      assert.equal(res.status, 400, JSON.stringify(res.json));
      const error = res.json.error as { param: string; message: string; type: string };
      assert.equal(error.param, param);
      assert.equal(error.type, "invalid_request_error");
      assert.ok(error.message.includes(`'${param}'`), error.message);
    });
  }

  // The chat dialect's words for a value of the wrong type, with the types `input` takes.
  const wrongTypes: [unknown, string][] = [
    [5, "an integer"],
    [1.5, "a decimal"],
    [true, "a boolean"],
    [{}, "an object"],
    [null, "null"],
  ];
  for (const [input, got] of wrongTypes) {
    it(`answers an input of ${JSON.stringify(input)} as OpenAI answers a wrong type`, async () => {
      const res = await post({ model: "auto", input });
      assert.equal(res.status, 400);
      assert.deepEqual(res.json.error, {
        message: `Invalid type for 'input': expected a string or an array, but got ${got} instead.`,
        type: "invalid_request_error",
        param: "input",
        code: "invalid_type",
      });
    });
  }
});
