/**
 * Large requests are classified in windows, and in slices that leave the event loop: they must find
 * exactly what one scan of the whole text finds, wherever a value falls against a window's edge.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ChatRequest } from "../../src/core/index.js";
import { FAKE } from "../../src/privacy/eval/fake-credentials.js";
import { classifyRequest, classifyRequestInSlices, detectSensitiveData } from "../../src/privacy/index.js";

const WINDOW = 256 * 1024;
const FILLER = "The deployment finished on schedule; the next review is on Thursday at the usual time. ";
const VALUES = [
  "maria.garcia@example.com",
  "+1 415-555-2671",
  FAKE.githubPat,
  FAKE.openaiProject,
  "10.20.30.40",
  `api_key: ${FAKE.tokens[3]}`,
  `-----BEGIN RSA PRIVATE KEY-----\n${FAKE.pemBody}\n-----END RSA PRIVATE KEY-----`,
];

/** About `size` characters of filler with the values planted across and beside window edges. */
function largeText(size: number): string {
  let text = "";
  let v = 0;
  for (let edge = WINDOW; edge < size; edge += WINDOW) {
    // One value straddling the edge, one just before it, one just after it.
    for (const offset of [-3000, -10, 3000]) {
      const value = VALUES[v++ % VALUES.length] as string;
      const at = edge + offset - (offset === -10 ? Math.floor(value.length / 2) : 0);
      while (text.length < at) text += FILLER;
      text = `${text.slice(0, at)} ${value} `;
    }
  }
  while (text.length < size) text += FILLER;
  return text;
}

const project = (findings: readonly { kind: string; start: number; end: number; value: string }[]) =>
  findings.map((f) => `${f.kind}@${f.start}-${f.end}:${f.value}`);

describe("classifying a large request", () => {
  const text = largeText(5 * WINDOW + 1000);
  const request: ChatRequest = {
    model: "m",
    stream: false,
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "text", text }] },
      { role: "assistant", content: [{ type: "text", text: "Noted." }] },
      { role: "user", content: [{ type: "text", text: "And mail anna@example.com the summary." }] },
    ],
  };

  it("finds in windows exactly what one scan of the whole text finds, values on the edges included", () => {
    const whole = detectSensitiveData(text);
    assert.ok(whole.length >= 15, `planted values found: ${whole.length}`);
    const classified = classifyRequest(request);
    const inText = classified.findings.filter((f) => "message" in f.where && f.where.message === 1);
    assert.deepEqual(project(inText), project(whole));
  });

  it("gives the same classification in slices as at once", async () => {
    const sliced = await classifyRequestInSlices(request);
    const once = classifyRequest(request);
    assert.deepEqual(sliced, once);
    assert.equal(sliced.level, "private");
    assert.ok(sliced.findings.some((f) => "message" in f.where && f.where.message === 3 && f.kind === "email"));
  });

  it("lets other work run while it scans", async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    await classifyRequestInSlices({ ...request, messages: Array.from({ length: 4 }, () => request.messages[1]!) });
    clearInterval(timer);
    assert.ok(ticks > 0, "no timer ran during the scan");
  });
});
