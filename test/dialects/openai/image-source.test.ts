/**
 * A chat or Responses client's `data:` URL image is read by its bytes: the media type is the one the
 * bytes are of when they are PNG, JPEG, GIF or WebP (OpenAI takes a mislabelled image, Anthropic
 * refuses it). Another format, or base64 that does not decode, keeps its label and is left for the
 * target to judge: an OpenAI-compatible server may take it, and a same-wire body passes unchanged.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { imageSource } from "../../../src/dialects/openai/convert-from-openai-messages.js";

const PARAM = "messages[0].content[1].image_url.url";
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]).toString("base64");
const BMP = Buffer.from("BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00", "latin1").toString("base64");

describe("a data: URL image", () => {
  it("takes its media type from the bytes, not the URL's label", () => {
    assert.deepEqual(imageSource(`data:image/png;base64,${JPEG}`, PARAM), {
      kind: "base64",
      mediaType: "image/jpeg",
      data: JPEG,
    });
  });

  it("of another format (BMP) keeps its label: the target says whether it takes it", () => {
    assert.deepEqual(imageSource(`data:image/bmp;base64,${BMP}`, PARAM), { kind: "base64", mediaType: "image/bmp", data: BMP });
  });

  it("whose base64 does not decode keeps its label and its text", () => {
    assert.deepEqual(imageSource("data:image/png;base64,notbase64!!!", PARAM), {
      kind: "base64",
      mediaType: "image/png",
      data: "notbase64!!!",
    });
  });

  it("leaves an http(s) URL as it is", () => {
    assert.deepEqual(imageSource("https://example.com/a.bmp", PARAM), { kind: "url", url: "https://example.com/a.bmp" });
  });
});
