/** The messages between a PdfTextReader and its thread (pdf-text-thread.ts). */
export interface PdfTextRequest {
  id: number;
  /** The PDF's bytes (transferred: the reader sends a copy). */
  data: Uint8Array;
}

export interface PdfTextReply {
  id: number;
  /** Absent: the PDF has no text that can be read. */
  text?: string;
}
