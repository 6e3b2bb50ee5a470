/**
 * A PDF thread for tests: a document whose first byte is 0 stands for a hostile one (the thread
 * spins on it for ever, as pdf.js on a document that never ends); any other is read as "read".
 */
import { parentPort } from "node:worker_threads";
import type { PdfTextRequest } from "../../src/harness/files/pdf-text-protocol.js";

parentPort?.on("message", (message: PdfTextRequest) => {
  if (message.data[0] === 0) for (;;);
  parentPort?.postMessage({ id: message.id, text: "read" });
});
