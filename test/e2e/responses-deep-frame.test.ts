/**
 * A Responses upstream's event nested deeper than JSON.stringify can write (V8 runs out of stack near
 * 5,000 levels) reaches a streaming client as the upstream wrote it, renumbered, as README promises
 * such frames (Limits): the stream goes on to its end. It ended in an internal "Maximum call stack
 * size exceeded" error event.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const DEPTH = 20_000;
const deep = `${'{"a":'.repeat(DEPTH)}1${"}".repeat(DEPTH)}`;

function events(): string {
  const response = { id: "resp_up", object: "response", created_at: 1, status: "in_progress", model: "m", output: [] };
  const item = { id: "msg_1", type: "message", role: "assistant", status: "in_progress", content: [] };
  const part = { type: "output_text", text: "", annotations: [] };
  const done = { ...item, status: "completed", content: [{ ...part, text: "hi" }] };
  const usage = { input_tokens: 1, output_tokens: 1, total_tokens: 2 };
  const at = { output_index: 0, content_index: 0, item_id: "msg_1" };
  const list: Array<[string, string]> = [
    ["response.created", JSON.stringify({ type: "response.created", response })],
    ["response.output_item.added", JSON.stringify({ type: "response.output_item.added", output_index: 0, item })],
    ["response.content_part.added", JSON.stringify({ type: "response.content_part.added", ...at, part })],
    // The deep field is the upstream's own, in an event tandem renumbers.
    [
      "response.output_text.delta",
      `{"type":"response.output_text.delta","output_index":0,"content_index":0,"item_id":"msg_1","delta":"hi","x":${deep}}`,
    ],
    ["response.output_text.done", JSON.stringify({ type: "response.output_text.done", ...at, text: "hi" })],
    ["response.content_part.done", JSON.stringify({ type: "response.content_part.done", ...at, part: { ...part, text: "hi" } })],
    ["response.output_item.done", JSON.stringify({ type: "response.output_item.done", output_index: 0, item: done })],
    [
      "response.completed",
      JSON.stringify({ type: "response.completed", response: { ...response, status: "completed", output: [done], usage } }),
    ],
  ];
  return list.map(([event, data], i) => `event: ${event}\ndata: ${data.replace(/}$/, `,"sequence_number":${i}}`)}\n\n`).join("");
}

let upstream: Server;
let tandem: RunningTandem;

before(async () => {
  upstream = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(events());
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
  tandem = await startTandem({
    providers: { up: { kind: "openai", baseUrl: url, responses: true, local: false, models: { m: {} } } },
  });
});

after(async () => {
  await tandem?.close();
  await new Promise((resolve) => upstream?.close(resolve));
});

describe("a Responses upstream's deeply nested event", () => {
  it("reaches a streaming client as it came, and the stream goes on to its end", async () => {
    const res = await fetch(`${tandem.url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "up/m", input: "hi", stream: true, store: false }),
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.doesNotMatch(text, /event: error/);
    assert.ok(text.includes(deep), "the deep field as the upstream wrote it");
    const names = [...text.matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
    assert.equal(names.at(-1), "response.completed");
    const numbers = [...text.matchAll(/"sequence_number":(\d+)/g)].map((m) => Number(m[1]));
    assert.deepEqual(
      numbers,
      numbers.map((_, i) => i),
      "one sequence, the deep event's number set in its text",
    );
  });
});
