/**
 * The worker thread that reads PDFs' text for a running server (see PdfTextReader): one document at
 * a time, in the order asked.
 */
import { parentPort } from "node:worker_threads";
import { extractPdfText } from "./extract-pdf-text.js";
import type { PdfTextReply, PdfTextRequest } from "./pdf-text-protocol.js";

const port = parentPort;
if (!port) throw new Error("pdf-text-thread.ts runs as a worker thread");
let queue = Promise.resolve();
port.on("message", (message: PdfTextRequest) => {
  queue = queue.then(async () => {
    const text = await extractPdfText(message.data);
    port.postMessage({ id: message.id, ...(text !== undefined && { text }) } satisfies PdfTextReply);
  });
});
