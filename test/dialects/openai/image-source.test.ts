/**
 * A chat or Responses client's `data:` URL image is read by its bytes: the media type is the one the
 * bytes are of (OpenAI takes a mislabelled image, Anthropic refuses it), and a format no target takes
 * or base64 that does not decode is refused, naming the part, as an Ollama client's image is.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError } from "../../../src/core/index.js";
import { imageSource } from "../../../src/dialects/openai/convert-from-openai-messages.js";

const PARAM = "messages[0].content[1].image_url.url";
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]).toString("base64");
const BMP = Buffer.from("BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00", "latin1").toString("base64");

function refusal(pattern: RegExp) {
  return (err: unknown) =>
    err instanceof GatewayError && err.code === "invalid_request" && err.param === PARAM && pattern.test(err.message);
}

describe("a data: URL image", () => {
  it("takes its media type from the bytes, not the URL's label", () => {
    assert.deepEqual(imageSource(`data:image/png;base64,${JPEG}`, PARAM), {
      kind: "base64",
      mediaType: "image/jpeg",
      data: JPEG,
    });
  });

  it("of a format no target takes (BMP) is refused, naming the part", () => {
    assert.throws(
      () => imageSource(`data:image/bmp;base64,${BMP}`, PARAM),
      refusal(/unsupported image format \(expected PNG, JPEG, GIF or WebP\)/),
    );
  });

  it("whose base64 does not decode is refused, naming the part", () => {
    assert.throws(() => imageSource("data:image/png;base64,notbase64!!!", PARAM), refusal(/base64 does not decode/));
  });

  it("leaves an http(s) URL as it is", () => {
    assert.deepEqual(imageSource("https://example.com/a.bmp", PARAM), { kind: "url", url: "https://example.com/a.bmp" });
  });
});
