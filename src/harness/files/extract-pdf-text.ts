/**
 * A PDF's text, page after page (unpdf: pdf.js without a canvas); `undefined` for a PDF without text
 * (a scan) or one pdf.js cannot open. Runs on the PDF thread (pdf-text-thread.ts): pdf.js parses on
 * the thread that calls it, and a large document would hold up every stream the server relays.
 */
export async function extractPdfText(data: Uint8Array): Promise<string | undefined> {
  const { extractText, getDocumentProxy } = await import("unpdf");
  try {
    // verbosity 0: pdf.js warns on stdout about damaged files otherwise (the answer then says "no text").
    const document = await getDocumentProxy(data, { verbosity: 0 });
    try {
      const { text } = await extractText(document, { mergePages: true });
      const trimmed = text.trim();
      return trimmed === "" ? undefined : trimmed;
    } finally {
      await document.cleanup();
    }
  } catch {
    return undefined;
  }
}
