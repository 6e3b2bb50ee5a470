/**
 * isBase64Text is the one check of base64 text for an image's bytes (OpenAI's data: URLs, Ollama's
 * `images`): the alphabet, padding only where it completes the last 4-character group, and missing
 * padding tolerated.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isBase64Text } from "../../src/core/image-type.js";

describe("isBase64Text", () => {
  it("takes base64 of any length, padded or not", () => {
    for (let n = 0; n <= 7; n++) {
      const padded = Buffer.alloc(n, 0xab).toString("base64");
      assert.ok(isBase64Text(padded), padded);
      assert.ok(isBase64Text(padded.replace(/=+$/, "")), padded);
    }
    assert.ok(isBase64Text("iVBORw0KGgo+/A=="));
  });

  it("refuses padding where no group ends, a lone last character, and characters outside the alphabet", () => {
    for (const text of ["AAAAAA=", "AAAAA=", "AA=A", "A===", "AAAAA", "AA-_", "AA AA", "AA==AA=="]) {
      assert.equal(isBase64Text(text), false, text);
    }
  });
});
