import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { droppedHistoryImages, hasOwnImage, type ImagePart, type Message, withoutHistoryImages } from "../../src/core/index.js";

const image = (fromHistory?: true): ImagePart => ({
  type: "image",
  source: { kind: "base64", mediaType: "image/png", data: "AA==" },
  ...(fromHistory && { fromHistory }),
});

describe("earlier turns' images, for a target that reads none", () => {
  it("leaves out only the history's images, each message in its place, and counts them", () => {
    const system: Message = { role: "system", content: "Be brief." };
    const old: Message = { role: "user", content: [{ type: "text", text: "What is this?" }, image(true)] };
    const answer: Message = { role: "assistant", content: [{ type: "text", text: "A dot." }] };
    const result: Message = { role: "tool", toolCallId: "c1", content: [image(true), image(true)] };
    const own: Message = { role: "user", content: [{ type: "text", text: "And this?" }, image()] };
    const messages = [system, old, answer, result, own];
    const seen = withoutHistoryImages(messages);
    assert.equal(seen.dropped, 3);
    assert.deepEqual(seen.messages[1], { role: "user", content: [{ type: "text", text: "What is this?" }] });
    assert.deepEqual(seen.messages[3], { role: "tool", toolCallId: "c1", content: [] });
    // What loses nothing is the same object; the request's own image stays.
    assert.equal(seen.messages[0], system);
    assert.equal(seen.messages[2], answer);
    assert.equal(seen.messages[4], own);
    assert.equal(droppedHistoryImages(seen.dropped), "earlier turns' images (3)");
    assert.equal(droppedHistoryImages(1), "an earlier turn's image");
  });

  it("gives the same array back when there is no earlier image", () => {
    const messages: Message[] = [{ role: "user", content: [image()] }];
    assert.equal(withoutHistoryImages(messages).messages, messages);
  });

  it("says whether the request's own input has an image, in a user message or a tool result", () => {
    assert.equal(hasOwnImage([{ role: "user", content: [image(true)] }]), false);
    assert.equal(hasOwnImage([{ role: "user", content: [image()] }]), true);
    assert.equal(hasOwnImage([{ role: "tool", toolCallId: "c", content: [image()] }]), true);
  });
});
