import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { summaryBudget, summaryRequest, summaryText, withSummary } from "../../src/context/summarize-history.js";
import { type ChatRequest, type Message, SUMMARY_LEAD, type SystemMessage } from "../../src/core/index.js";

const user = (text: string): Message => ({ role: "user", content: [{ type: "text", text }] });

describe("summarize-history", () => {
  it("keeps room for a summary of an eighth of the window, 64..512 tokens", () => {
    assert.equal(summaryBudget(100), 64);
    assert.equal(summaryBudget(2000), 250);
    assert.equal(summaryBudget(128_000), 512);
  });

  it("asks the summarizer with a transcript of the earlier summary and every dropped turn, tool calls included", () => {
    const dropped: Message[] = [
      user("Weather in Oslo?"),
      { role: "assistant", content: [], toolCalls: [{ id: "c1", name: "get_weather", arguments: '{"city":"Oslo"}' }] },
      { role: "tool", toolCallId: "c1", content: [{ type: "text", text: "cloudy" }] },
    ];
    const request = summaryRequest("local/m", "Earlier: trip planning.", dropped, 100);
    assert.equal(request.model, "local/m");
    assert.equal(request.maxTokens, 100);
    assert.equal(request.stream, false);
    const asked = JSON.stringify(request.messages.at(-1));
    assert.match(asked, /Summary so far:\\nEarlier: trip planning\./);
    assert.match(asked, /\[user\] Weather in Oslo\?/);
    assert.match(asked, /calls get_weather\(\{\\"city\\":\\"Oslo\\"\}\) as c1/);
    assert.match(asked, /\[result of c1\] cloudy/);
  });

  it("puts the summary in the earlier summary's place, else right after the leading system messages", () => {
    const instructions: SystemMessage = { role: "system", content: "Be brief." };
    const fitted: ChatRequest = { model: "m", stream: false, messages: [instructions, user("newest")] };
    const first = withSummary(fitted, undefined, "S1");
    assert.deepEqual(
      first.messages.map((m) => m.role),
      ["system", "system", "user"],
    );
    assert.equal((first.messages[1] as SystemMessage).content, `${SUMMARY_LEAD}S1`);
    const previous = first.messages[1] as SystemMessage;
    assert.equal(summaryText(previous), "S1");
    const second = withSummary(first, previous, "S2");
    assert.equal(second.messages.length, 3);
    assert.equal((second.messages[1] as SystemMessage).content, `${SUMMARY_LEAD}S2`);
    assert.equal(fitted.messages.length, 2, "the fitted request is not changed");
  });
});
