/**
 * A client that sends `Connection: close` gets its connection closed once the answer has ended, a
 * streamed one too (RFC 9112 9.6): a client that reads until the close (a raw HTTP/1.1 client, some
 * proxies) would otherwise wait out the keep-alive timeout. Without the header the connection stays
 * open for the next request, as before.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let upstream: FakeOpenAIUpstream;
let tandem: RunningTandem;

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  tandem = await startTandem(
    { providers: { openai: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP_KEY"], local: false } } },
    { env: { UP_KEY: "sk-up" } },
  );
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

/** Sends one raw request; resolves with what came back and whether the server closed within `waitMs` of it. */
function rawRequest(path: string, body: object, connection: string | undefined, waitMs = 2000) {
  const { port } = new URL(tandem.url);
  const text = JSON.stringify(body);
  return new Promise<{ text: string; closed: boolean }>((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1");
    let received = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text: received, closed: false });
    }, waitMs);
    socket.on("data", (chunk) => {
      received += chunk.toString("utf8");
    });
    socket.on("end", () => {
      clearTimeout(timer);
      resolve({ text: received, closed: true });
    });
    socket.on("error", reject);
    socket.write(
      [
        `POST ${path} HTTP/1.1`,
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        `Content-Length: ${Buffer.byteLength(text)}`,
        ...(connection === undefined ? [] : [`Connection: ${connection}`]),
        "",
        text,
      ].join("\r\n"),
    );
  });
}

describe("Connection: close", () => {
  const streamed = { model: "openai/gpt-4o-mini", stream: true, messages: [{ role: "user", content: "Hi" }] };

  it("closes the connection after a streamed answer, on every dialect", async () => {
    for (const [path, body] of [
      ["/v1/chat/completions", streamed],
      ["/api/chat", { ...streamed, stream: true }],
      ["/v1/messages", { ...streamed, max_tokens: 16 }],
    ] as const) {
      const answer = await rawRequest(path, body, "close");
      assert.ok(answer.closed, `${path}: the connection stayed open: ${answer.text.slice(0, 300)}`);
      assert.match(answer.text, /^HTTP\/1\.1 200/, path);
      assert.doesNotMatch(answer.text, /connection: keep-alive/i, path);
    }
  });

  it("keeps it open for the next request when the client did not ask to close", async () => {
    const answer = await rawRequest("/v1/chat/completions", streamed, undefined, 500);
    assert.equal(answer.closed, false);
    assert.match(answer.text, /data: \[DONE\]/);
  });
});
