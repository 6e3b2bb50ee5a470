import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decode, encode } from "gpt-tokenizer";
import { chunkText, textPieces } from "../../../src/harness/vector-stores/chunk-text.js";
import { measureLoopGaps } from "../../support/loop-gaps.js";

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

  it("tokenizes a long text a piece at a time into exactly the chunks of the whole", async () => {
    const vocabulary = ["alpha", "beta,", "gamma.", "Delta", "42", "(x)", "don't", "  ", "\t", "é"];
    let text = "";
    for (let i = 0; text.length < 200_000; i++) {
      text += vocabulary[(i * 7919) % vocabulary.length];
      text += i % 37 === 0 ? "\n" : i % 101 === 0 ? "\n\n  " : " ";
    }
    assert.ok([...textPieces(text)].length > 5, "the text is tokenized in several pieces");
    assert.equal([...textPieces(text)].join(""), text);
    const strategy = { maxChunkSizeTokens: 300, chunkOverlapTokens: 100 };
    const tokens = encode(text);
    const whole: string[] = [];
    for (let start = 0; start < tokens.length; start += 200) {
      const chunk = decode(tokens.slice(start, start + 300)).trim();
      if (chunk.length > 0) whole.push(chunk);
      if (start + 300 >= tokens.length) break;
    }
    assert.deepEqual(await chunkText(text, strategy, 10_000), whole);
  });

  it("refuses a file of too many chunks after tokenizing only what they take, leaving the event loop as it goes", {
    timeout: 120_000,
  }, async () => {
    // 6 MB of words: tokenized at once, this held the server for seconds (a 30 MB file for over ten).
    const line = Array.from({ length: 200 }, (_, i) => ["alpha", "beta", "gamma", "delta"][i % 4]).join(" ");
    const text = `${line}\n`.repeat(Math.ceil((6 * 1024 * 1024) / (line.length + 1)));
    await chunkText("loads the tokenizer", { maxChunkSizeTokens: 800, chunkOverlapTokens: 400 }, 10);
    const gaps = measureLoopGaps();
    const chunks = await chunkText(text, { maxChunkSizeTokens: 800, chunkOverlapTokens: 400 }, 2000);
    const longest = await gaps.stop();
    assert.equal(chunks.length, 2001);
    // Generous for a loaded machine: one step is a few ms, the whole file at once was seconds.
    assert.ok(longest < 1000, `the event loop was held ${Math.round(longest)} ms at once`);
  });
});
