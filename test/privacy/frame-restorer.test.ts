import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StreamEvent } from "../../src/core/index.js";
import { FrameRestorer } from "../../src/privacy/frame-restorer.js";
import { Redaction } from "../../src/privacy/index.js";

type Frame = Extract<StreamEvent, { type: "frame" }>;

const EMAIL = 'a"b@example.org';
const redaction = new Redaction([{ kind: "email", value: EMAIL }]);
const placeholder = redaction.placeholderFor(EMAIL)!;

function delta(index: number, type: string, field: string, value: string): Frame {
  return {
    type: "frame",
    event: "content_block_delta",
    data: JSON.stringify({ type: "content_block_delta", index, delta: { type, [field]: value } }),
  };
}

/** The text of every delta of `field` in the frames, joined, as a client would put it together. */
function joined(frames: Frame[], field: string): string {
  return frames
    .filter((f) => f.event === "content_block_delta")
    .map((f) => (JSON.parse(f.data) as { delta: Record<string, string> }).delta[field] ?? "")
    .join("");
}

describe("FrameRestorer", () => {
  it("restores a placeholder split across text deltas, holding only the tail, and flushes it before the block stops", () => {
    const restorer = new FrameRestorer(redaction);
    const half = Math.floor(placeholder.length / 2);
    const out = [
      ...restorer.push(delta(1, "text_delta", "text", `to ${placeholder.slice(0, half)}`)),
      ...restorer.push(delta(1, "text_delta", "text", placeholder.slice(half))),
      ...restorer.push({ type: "frame", event: "content_block_stop", data: '{"type":"content_block_stop","index":1}' }),
    ];
    assert.equal(joined(out, "text"), `to ${EMAIL}`);
    assert.equal(out.at(-1)?.event, "content_block_stop");
  });

  it("keeps tool input JSON valid when the value has quotes", () => {
    const restorer = new FrameRestorer(redaction);
    const out = [
      ...restorer.push(delta(0, "input_json_delta", "partial_json", `{"to":"${placeholder}"}`)),
      ...restorer.push({ type: "frame", event: "content_block_stop", data: '{"type":"content_block_stop","index":0}' }),
    ];
    assert.deepEqual(JSON.parse(joined(out, "partial_json")), { to: EMAIL });
  });

  it("restores a whole message in place and leaves frames without placeholders as they are", () => {
    const restorer = new FrameRestorer(redaction);
    const [whole] = restorer.push({
      type: "frame",
      data: JSON.stringify({ content: [{ type: "text", text: placeholder }] }),
      whole: true,
    });
    assert.deepEqual(JSON.parse(whole!.data), { content: [{ type: "text", text: EMAIL }] });
    const ping: Frame = { type: "frame", event: "ping", data: '{"type":"ping"}' };
    assert.equal(restorer.push(ping)[0], ping);
  });

  it("flushes what it holds when the stream goes on elsewhere", () => {
    const restorer = new FrameRestorer(redaction);
    assert.deepEqual(restorer.push(delta(1, "text_delta", "text", "[")), []);
    assert.equal(joined(restorer.flush(), "text"), "[");
  });
});
