import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StreamEvent } from "../../src/core/index.js";
import { Redaction } from "../../src/privacy/index.js";

async function* streamOf(events: readonly StreamEvent[]): AsyncGenerator<StreamEvent> {
  for (const event of events) yield event;
}

async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

describe("Redaction.rehydrateStream, reasoning", () => {
  it("restores a placeholder split across reasoning deltas, and flushes a held tail before the answer's text", async () => {
    const redaction = new Redaction([{ kind: "email", value: "ann@example.com" }]);
    const out = await collect(
      redaction.rehydrateStream(
        streamOf([
          { type: "reasoning-delta", text: "Mail [EMA" },
          { type: "reasoning-delta", text: "IL_1] later, or [EM" },
          { type: "text-delta", text: "Done." },
          { type: "finish", reason: "stop" },
        ]),
      ),
    );
    const reasoning = out.filter((e) => e.type === "reasoning-delta").map((e) => (e as { text: string }).text);
    assert.equal(reasoning.join(""), "Mail ann@example.com later, or [EM");
    // Everything of the reasoning comes before the first text of the answer.
    const firstText = out.findIndex((e) => e.type === "text-delta");
    assert.ok(out.slice(firstText).every((e) => e.type !== "reasoning-delta"));
  });
});
