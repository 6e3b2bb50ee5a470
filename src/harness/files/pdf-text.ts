import type { DocumentText } from "../../core/files.js";

/**
 * A PDF's text, page after page (unpdf, pdf.js without a canvas), for targets that cannot read a
 * PDF itself (the local engine, Ollama) and for privacy classification, which reads text. Other
 * types, and a PDF without text (a scan) or one pdf.js cannot open, give `undefined`.
 */
export const pdfText: DocumentText = async (data, mediaType, signal) => {
  if (mediaType !== "application/pdf") return undefined;
  signal?.throwIfAborted();
  const { extractText, getDocumentProxy } = await import("unpdf");
  try {
    // pdf.js takes the buffer over (it transfers it): give it a copy, not the caller's bytes.
    // verbosity 0: pdf.js warns on stdout about damaged files otherwise (the answer then says "no text").
    const document = await getDocumentProxy(new Uint8Array(data), { verbosity: 0 });
    try {
      signal?.throwIfAborted();
      const { text } = await extractText(document, { mergePages: true });
      const trimmed = text.trim();
      return trimmed === "" ? undefined : trimmed;
    } finally {
      await document.cleanup();
    }
  } catch (err) {
    if (signal?.aborted) throw err;
    return undefined;
  }
};
