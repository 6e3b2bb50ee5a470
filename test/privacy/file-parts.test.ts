/**
 * A file's content is classified as the request's input is: a file part's text is scanned (and
 * redacted on a redact route, the file then going as that text: its bytes cannot be redacted); a
 * file part without text cannot be read, and counts as an image does.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ChatRequest, FilePart } from "../../src/core/index.js";
import { classifyRequest, decideChatPrivacy } from "../../src/privacy/index.js";

const EMAIL = "jane.doe@example.com";
const withFile = (part: FilePart): ChatRequest => ({
  model: "m",
  stream: false,
  messages: [{ role: "user", content: [{ type: "text", text: "Read it." }, part] }],
});
const letter: FilePart = {
  type: "file",
  mediaType: "application/pdf",
  data: "JVBERi0=",
  filename: "l.pdf",
  text: `Mail ${EMAIL}.`,
};
const plain: FilePart = {
  type: "file",
  mediaType: "application/pdf",
  data: "JVBERi0=",
  filename: "p.pdf",
  text: "Revenue grew.",
};
const scan: FilePart = { type: "file", mediaType: "application/pdf", data: "JVBERi0=", filename: "s.pdf" };
const settings = (imagesArePrivate: boolean, routePolicy?: "redact") => ({
  defaultPolicy: "local-only" as const,
  imagesArePrivate,
  detection: {},
  ...(routePolicy && { routePolicy }),
});

describe("a file part and privacy", () => {
  it("its text is scanned; a file without text is unread", () => {
    const found = classifyRequest(withFile(letter));
    assert.equal(found.level, "private");
    assert.equal(found.counts.email, 1);
    assert.equal(found.unreadFiles, 0);
    assert.equal(classifyRequest(withFile(plain)).level, "public");
    assert.equal(classifyRequest(withFile(scan)).unreadFiles, 1);
    assert.equal(classifyRequest(withFile(scan), { imagesArePrivate: true }).level, "private");
    assert.equal(decideChatPrivacy(withFile(scan), undefined, settings(true)).sensitivity, "private");
    assert.equal(decideChatPrivacy(withFile(scan), undefined, settings(false)).sensitivity, "public");
    assert.match(decideChatPrivacy(withFile(scan), undefined, settings(true)).reason, /1 attachment that cannot be read/);
  });

  it("on a redact route: its text redacted, the file then as that text; a file with nothing found as it is", () => {
    const decision = decideChatPrivacy(withFile(letter), undefined, settings(false, "redact"));
    assert.equal(decision.policy, "redact");
    const redacted = decision.redaction?.redactRequest(withFile(letter));
    const part = redacted?.messages[0]?.role === "user" ? redacted.messages[0].content[1] : undefined;
    assert.equal(part?.type, "text");
    assert.ok(part?.type === "text" && part.text.startsWith('<file name="l.pdf">\nMail '), JSON.stringify(part));
    assert.ok(part?.type === "text" && !part.text.includes(EMAIL));
    const kept = decision.redaction?.redactRequest(withFile(plain));
    assert.deepEqual(kept?.messages[0]?.role === "user" && kept.messages[0].content[1], plain);
  });

  it("an unread file on a redact route keeps the request local (it cannot be redacted)", () => {
    const decision = decideChatPrivacy(withFile(scan), undefined, { ...settings(true, "redact") });
    assert.equal(decision.policy, "local-only");
  });
});
