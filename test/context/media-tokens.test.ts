import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { countMessageTokens, loadTokenCounter } from "../../src/context/estimate-input-tokens.js";
import { imageSizeOfBase64 } from "../../src/context/image-size.js";
import { anthropicImageTokens, openAIImageTokens, pdfPageCount } from "../../src/context/media-tokens.js";
import type { UserMessage } from "../../src/core/index.js";
import { gifHeader, jpegHeader, pngHeader, webpHeader } from "../support/image-headers.js";
import { tinyPdf } from "../support/tiny-pdf.js";

const b64 = (bytes: Buffer) => bytes.toString("base64");

describe("imageSizeOfBase64", () => {
  it("reads the size in the header of a PNG, a JPEG (past its metadata), a GIF and each kind of WebP", () => {
    assert.deepEqual(imageSizeOfBase64(b64(pngHeader(1000, 700))), { width: 1000, height: 700 });
    assert.deepEqual(imageSizeOfBase64(b64(jpegHeader(640, 480, 30_000))), { width: 640, height: 480 });
    assert.deepEqual(imageSizeOfBase64(b64(gifHeader(320, 200))), { width: 320, height: 200 });
    for (const kind of ["VP8 ", "VP8L", "VP8X"] as const) {
      assert.deepEqual(imageSizeOfBase64(b64(webpHeader(1200, 900, kind))), { width: 1200, height: 900 }, kind);
    }
  });

  it("knows no size for bytes that are no image it reads", () => {
    assert.equal(imageSizeOfBase64(b64(Buffer.from("not an image at all, just some text"))), undefined);
    assert.equal(imageSizeOfBase64(""), undefined);
  });
});

describe("image token prices", () => {
  it("Anthropic: width × height / 750, the long edge scaled to 1568 and the cost capped at 1,600", () => {
    assert.equal(anthropicImageTokens({ width: 1000, height: 1000 }), 1334);
    assert.equal(anthropicImageTokens({ width: 200, height: 200 }), 54);
    assert.equal(anthropicImageTokens({ width: 4000, height: 3000 }), 1600);
    assert.equal(anthropicImageTokens({ width: 3136, height: 200 }), Math.ceil((1568 * 100) / 750));
  });

  it("OpenAI: 85 for low detail; else 85 + 170 a 512-pixel tile after fitting in 2048 and the short side in 768", () => {
    assert.equal(openAIImageTokens({ width: 4000, height: 4000 }, "low"), 85);
    assert.equal(openAIImageTokens({ width: 1000, height: 1000 }, "high"), 765);
    assert.equal(openAIImageTokens({ width: 1024, height: 1024 }, "auto"), 765);
    assert.equal(openAIImageTokens({ width: 2048, height: 4096 }, "high"), 1105);
    assert.equal(openAIImageTokens({ width: 300, height: 300 }, undefined), 255);
  });
});

describe("countMessageTokens with images and PDFs", () => {
  const image = (data: string): UserMessage => ({
    role: "user",
    content: [{ type: "image", source: { kind: "base64", mediaType: "image/png", data } }],
  });

  it("prices an image by its size as the target's vendor does, not a flat 85", async () => {
    const count = await loadTokenCounter();
    const big = image(b64(pngHeader(1000, 1000)));
    const small = image(b64(pngHeader(100, 100)));
    assert.equal(countMessageTokens(big, count, { images: "anthropic", documentsWhole: true }), 3 + 1334);
    assert.equal(countMessageTokens(small, count, { images: "anthropic", documentsWhole: true }), 3 + 14);
    assert.equal(countMessageTokens(big, count, { images: "openai", documentsWhole: true }), 3 + 765);
    // An OpenAI client's data: URL is read as well.
    const url: UserMessage = {
      role: "user",
      content: [{ type: "image", source: { kind: "url", url: `data:image/png;base64,${b64(pngHeader(1000, 1000))}` } }],
    };
    assert.equal(countMessageTokens(url, count, { images: "anthropic", documentsWhole: true }), 3 + 1334);
    // An image by URL, whose size is unknown, is taken as a 1024×1024 one.
    const remote: UserMessage = {
      role: "user",
      content: [{ type: "image", source: { kind: "url", url: "https://example.com/a.png" } }],
    };
    assert.equal(countMessageTokens(remote, count, { images: "anthropic", documentsWhole: true }), 3 + 1399);
    assert.equal(countMessageTokens(remote, count, { images: "openai", documentsWhole: true }), 3 + 765);
  });

  it("counts a PDF sent whole as its text and an image of each page; for a text-only target as the text it is given", async () => {
    const count = await loadTokenCounter();
    const text = "Quarterly results: revenue grew in every region.";
    const data = b64(tinyPdf([text]));
    const message: UserMessage = {
      role: "user",
      content: [{ type: "file", mediaType: "application/pdf", data, filename: "q.pdf", text }],
    };
    assert.equal(countMessageTokens(message, count, { images: "anthropic", documentsWhole: true }), 3 + count(text) + 1600);
    assert.equal(countMessageTokens(message, count, { images: "openai", documentsWhole: true }), 3 + count(text) + 765);
    const asText = countMessageTokens(message, count, { images: "openai", documentsWhole: false });
    assert.ok(asText > 3 + count(text) && asText < 3 + count(text) + 20, String(asText));
  });

  it("counts a PDF's pages", () => {
    assert.equal(pdfPageCount(b64(tinyPdf(["one"]))), 1);
    const three = Buffer.from(
      "%PDF-1.4\n<< /Type /Pages /Count 3 >>\n<< /Type /Page >>\n<< /Type/Page >>\n<</Type /Page/Parent 2 0 R>>",
    );
    assert.equal(pdfPageCount(b64(three)), 3);
    // Page objects packed in compressed object streams: the page tree's count.
    assert.equal(pdfPageCount(b64(Buffer.from("%PDF-1.7\n<< /Type /ObjStm >> ... /Count 12 ..."))), 12);
    assert.equal(pdfPageCount(""), 1);
  });
});
