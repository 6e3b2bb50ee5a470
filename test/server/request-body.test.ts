import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const LIMIT = 4096;

/** POSTs `pieces` as separate writes, `gapMs` apart; without `length`, the body goes chunked. */
function post(
  url: string,
  pieces: Buffer[],
  options: { gapMs?: number; length?: number; contentType?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { "content-type": options.contentType ?? "application/json" };
    if (options.length !== undefined) headers["content-length"] = options.length;
    const req = request(`${url}/v1/chat/completions`, { method: "POST", headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The server may answer (413) and close before the whole body is written.
    req.on("error", (err) => (err.message.includes("EPIPE") || err.message.includes("ECONNRESET") ? undefined : reject(err)));
    void (async () => {
      for (const [i, piece] of pieces.entries()) {
        if (i > 0 && options.gapMs) await delay(options.gapMs);
        if (req.destroyed) return;
        req.write(piece);
      }
      req.end();
    })();
  });
}

describe("request bodies", () => {
  let upstream: FakeOpenAIUpstream;
  let tandem: RunningTandem;

  before(async () => {
    upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
    tandem = await startTandem({ server: { bodyLimit: LIMIT }, providers: { up: { kind: "openai", baseUrl: upstream.url } } });
  });

  after(async () => {
    await tandem?.close();
    await upstream?.close();
  });

  it("reads a body that arrives in pieces, with a character split between them", async () => {
    const text = "héllo — 日本語 ✓";
    const bytes = Buffer.from(JSON.stringify({ model: "up/gpt-4o-mini", messages: [{ role: "user", content: text }] }));
    const cut = bytes.indexOf(Buffer.from("日")) + 1;
    const pieces = [bytes.subarray(0, 10), bytes.subarray(10, cut), bytes.subarray(cut)];
    for (const length of [bytes.length, undefined]) {
      const res = await post(tandem.url, pieces, { gapMs: 30, ...(length !== undefined && { length }) });
      assert.equal(res.status, 200, res.body);
      const sent = upstream.requests.at(-1)?.body as { messages: { content: string }[] };
      assert.equal(sent.messages[0]?.content, text);
    }
  });

  it("refuses JSON labelled as a form (what curl -d sends) with 415, and reads it labelled as JSON", async () => {
    const bytes = Buffer.from(JSON.stringify({ model: "up/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }));
    const form = await post(tandem.url, [bytes], { length: bytes.length, contentType: "application/x-www-form-urlencoded" });
    assert.equal(form.status, 415, form.body);
    assert.match(form.body, /application\/x-www-form-urlencoded.*application\/json/);
    for (const contentType of ["application/json; charset=utf-8", "application/vnd.api+json", "Application/JSON"]) {
      const res = await post(tandem.url, [bytes], { length: bytes.length, contentType });
      assert.equal(res.status, 200, `${contentType}: ${res.body}`);
    }
  });

  it("refuses a body over server.bodyLimit with 413, whether its length is declared or it streams past the limit", async () => {
    const big = Buffer.from(JSON.stringify({ model: "up/gpt-4o-mini", junk: "x".repeat(LIMIT) }));
    const declared = await post(tandem.url, [big], { length: big.length });
    assert.equal(declared.status, 413, declared.body);
    assert.match(declared.body, /too large/);
    const pieces = [big.subarray(0, 1000), big.subarray(1000, 3000), big.subarray(3000)];
    const streamed = await post(tandem.url, pieces, { gapMs: 20 });
    assert.equal(streamed.status, 413, streamed.body);
    assert.equal((JSON.parse(streamed.body) as { error: { code: string } }).error.code, "request_too_large");
  });

  it("answers an empty body and broken JSON with 400, whether they arrive whole or in pieces", async () => {
    const empty = await post(tandem.url, [], { length: 0 });
    assert.equal(empty.status, 400, empty.body);
    assert.match(empty.body, /empty/);
    const broken = await post(tandem.url, [Buffer.from('{"model": "up/gpt'), Buffer.from('-4o-mini", ')], { gapMs: 20 });
    assert.equal(broken.status, 400, broken.body);
    assert.equal((JSON.parse(broken.body) as { error: { type: string } }).error.type, "invalid_request_error");
  });
});
