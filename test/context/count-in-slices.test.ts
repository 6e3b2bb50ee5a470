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

  it("lets other work run while it counts", async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    await countLargeTextsInSlices(request, await loadTokenCounter());
    clearInterval(timer);
    assert.ok(ticks > 0);
  });
});
