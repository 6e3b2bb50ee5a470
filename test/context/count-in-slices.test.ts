import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { countLargeTextsInSlices } from "../../src/context/count-in-slices.js";
import { loadTokenCounter } from "../../src/context/estimate-input-tokens.js";
import { fitConversation } from "../../src/context/fit-conversation.js";
import type { ChatRequest } from "../../src/core/index.js";

const PARAGRAPH = "The quarterly report shows that revenue grew by 12 percent while costs stayed flat. ";

describe("counting a large conversation's tokens in slices", () => {
  const big = PARAGRAPH.repeat(8000);
  const request: ChatRequest = {
    model: "m",
    stream: false,
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "text", text: big }] },
      { role: "assistant", content: [{ type: "text", text: PARAGRAPH.repeat(20) }] },
      { role: "user", content: [{ type: "text", text: "Summarise it." }] },
    ],
  };

  it("counts about what one pass counts, and fits the conversation the same way", async () => {
    const count = await loadTokenCounter();
    const sliced = await countLargeTextsInSlices(request, count);
    const exact = count(big);
    assert.ok(Math.abs(sliced(big) - exact) <= Math.ceil(big.length / (64 * 1024)), `${sliced(big)} vs ${exact}`);
    assert.equal(sliced("Summarise it."), count("Summarise it."));
    const a = fitConversation(request, 20_000, count);
    const b = fitConversation(request, 20_000, sliced);
    assert.equal(b.dropped, a.dropped);
    assert.ok(a.dropped > 0);
  });

  it("counts a file's text beforehand too, as one pass counts it", async () => {
    const count = await loadTokenCounter();
    let asked = 0;
    const counting = (text: string) => {
      asked += text.length;
      return count(text);
    };
    const withFile: ChatRequest = {
      model: "m",
      stream: false,
      messages: [
        { role: "user", content: [{ type: "file", mediaType: "text/plain", data: "", filename: "big.txt", text: big }] },
      ],
    };
    const sliced = await countLargeTextsInSlices(withFile, counting);
    const before = asked;
    assert.ok(before >= big.length, "the file's text was counted in slices");
    const fit = fitConversation(withFile, 300_000, sliced);
    assert.equal(asked, before, "fitting asked for no large text again");
    assert.ok(Math.abs(fit.tokens - count(big)) < 50, `${fit.tokens} vs ${count(big)}`);
  });

  it("lets other work run while it counts", async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    await countLargeTextsInSlices(request, await loadTokenCounter());
    clearInterval(timer);
    assert.ok(ticks > 0);
  });
});
