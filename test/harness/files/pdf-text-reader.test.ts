/**
 * PDFs' text, read on a thread of its own: the text of a real PDF, nothing for a damaged one or
 * another type, nothing when a document takes too long (a thread that never answers stands in for
 * it), and a caller whose signal aborts stops waiting.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { PdfTextReader } from "../../../src/harness/files/pdf-text-reader.js";
import { tinyPdf } from "../../support/tiny-pdf.js";

describe("PdfTextReader", () => {
  const reader = new PdfTextReader();
  after(() => reader.close());

  it("reads a PDF's text; nothing for a damaged PDF or another type; the caller's bytes are left alone", async () => {
    const pdf = tinyPdf(["First line.", "Second (line)."]);
    const copy = Buffer.from(pdf);
    assert.equal(await reader.text(pdf, "application/pdf"), "First line.\nSecond (line).");
    assert.ok(pdf.equals(copy), "the caller's buffer was not transferred away");
    assert.equal(await reader.text(Buffer.from("%PDF-1.4 not really"), "application/pdf"), undefined);
    assert.equal(await reader.text(pdf, "text/plain"), undefined);
    // Several at once come back to their own callers.
    const texts = await Promise.all(["a", "b", "c"].map((t) => reader.text(tinyPdf([`Doc ${t}.`]), "application/pdf")));
    assert.deepEqual(texts, ["Doc a.", "Doc b.", "Doc c."]);
  });

  it("a caller whose signal aborts stops waiting", async () => {
    const controller = new AbortController();
    const pending = reader.text(tinyPdf(["Slow?"]), "application/pdf", controller.signal);
    controller.abort(new Error("client gone"));
    await assert.rejects(pending, /client gone/);
    assert.equal(await reader.text(tinyPdf(["Still here."]), "application/pdf"), "Still here.");
  });

  it("a document that takes too long gives no text, nor does what was queued behind it; a new thread reads the next", async () => {
    // A thread that never answers (a PDF that never ends), then the real one.
    const stuck = new PdfTextReader({ timeoutMs: 200, thread: new URL("../../support/silent-thread.js", import.meta.url) });
    try {
      const [first, second] = await Promise.all([
        stuck.text(tinyPdf(["Never read."]), "application/pdf"),
        stuck.text(tinyPdf(["Queued behind it."]), "application/pdf"),
      ]);
      assert.equal(first, undefined);
      assert.equal(second, undefined);
      // The stuck thread was stopped: the next document goes to a new one (silent too, here).
      assert.equal(await stuck.text(tinyPdf(["Next."]), "application/pdf"), undefined);
    } finally {
      await stuck.close();
    }
  });

  it("a document whose caller left is still given up after the timeout: the thread does not spin on it for ever", async () => {
    // Long enough for a thread to start (tsx compiles it first) on a busy machine.
    const timeoutMs = 3000;
    const reader = new PdfTextReader({ timeoutMs, thread: new URL("../../support/spinning-thread.js", import.meta.url) });
    try {
      assert.equal(await reader.text(new Uint8Array([1]), "application/pdf"), "read");
      const controller = new AbortController();
      const hostile = reader.text(new Uint8Array([0]), "application/pdf", controller.signal);
      controller.abort(new Error("client gone"));
      await assert.rejects(hostile, /client gone/);
      // Past the timeout the spinning thread has been replaced: the next document is read.
      await new Promise((resolve) => setTimeout(resolve, timeoutMs + 500));
      assert.equal(await reader.text(new Uint8Array([1]), "application/pdf"), "read");
    } finally {
      await reader.close();
    }
  });
});
