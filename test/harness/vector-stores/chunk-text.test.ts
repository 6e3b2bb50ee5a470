import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encode } from "gpt-tokenizer";
import { chunkText } from "../../../src/harness/vector-stores/chunk-text.js";

const words = Array.from({ length: 1000 }, (_, i) => `word${i}`).join(" ");

describe("chunkText", () => {
  it("cuts by tokens, each chunk at most the size, consecutive chunks sharing the overlap", async () => {
    const chunks = await chunkText(words, { maxChunkSizeTokens: 200, chunkOverlapTokens: 50 }, 100);
    assert.ok(chunks.length > 5);
    for (const chunk of chunks) assert.ok(encode(chunk).length <= 200, String(encode(chunk).length));
    // The end of one chunk begins the next.
    for (let i = 1; i < chunks.length; i++) {
      const tail = (chunks[i - 1] as string).split(" ").slice(-5).join(" ");
      assert.ok((chunks[i] as string).includes(tail), `chunk ${i} begins with the end of chunk ${i - 1}`);
    }
    // Every word is in some chunk.
    const all = chunks.join(" ");
    for (const word of ["word0", "word500", "word999"]) assert.ok(all.includes(word), word);
  });

  it("no overlap: the chunks are the text, in order", async () => {
    const chunks = await chunkText(words, { maxChunkSizeTokens: 100, chunkOverlapTokens: 0 }, 1000);
    assert.equal(chunks.join(" ").replace(/\s+/g, " "), words);
  });

  it("a short text is one chunk; an empty one none", async () => {
    assert.deepEqual(await chunkText("hello there", { maxChunkSizeTokens: 800, chunkOverlapTokens: 400 }, 10), ["hello there"]);
    assert.deepEqual(await chunkText("  \n ", { maxChunkSizeTokens: 800, chunkOverlapTokens: 400 }, 10), []);
  });

  it("stops past the limit (limit + 1 chunks tell the caller the file is too long)", async () => {
    const chunks = await chunkText(words, { maxChunkSizeTokens: 100, chunkOverlapTokens: 0 }, 3);
    assert.equal(chunks.length, 4);
  });

  it("never shows half a character where a cut splits one", async () => {
    const emoji = "🙂".repeat(400);
    for (const chunk of await chunkText(emoji, { maxChunkSizeTokens: 101, chunkOverlapTokens: 0 }, 100)) {
      assert.ok(!chunk.includes("\uFFFD"));
    }
  });

  // The tokenizer's merges are quadratic in the length of a run it cannot split (one letter, a CJK
  // line, dashes, spaces): 400,000 "x" took minutes, with the server's event loop held all along.
  // The timeout guards a hang, not a speed.
  it("cuts long runs the tokenizer cannot split (one repeated letter, spaces, CJK) without holding the server", {
    timeout: 30_000,
  }, async () => {
    for (const run of ["x".repeat(400_000), " ".repeat(200_000) + "end", "漢".repeat(100_000)]) {
      const chunks = await chunkText(run, { maxChunkSizeTokens: 800, chunkOverlapTokens: 0 }, 10_000);
      for (const chunk of chunks) assert.ok(encode(chunk).length <= 800, String(encode(chunk).length));
      assert.equal(chunks.join("").replace(/\s+/g, ""), run.replace(/\s+/g, ""));
    }
  });
});
