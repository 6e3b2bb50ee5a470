/**
 * A file that is not a readable GGUF model: not GGUF at all, an unsupported version, truncated,
 * or with a header whose lengths and counts cannot be true. The message names the file and, when
 * known, the byte offset and the field being read.
 */
export class GgufError extends Error {
  override readonly name = "GgufError";
  readonly code = "invalid_gguf";
  /** The file that failed. */
  readonly file: string;
  /** The byte offset where reading failed, when known. */
  readonly offset: number | undefined;

  constructor(file: string, problem: string, offset?: number, options?: { cause?: unknown }) {
    super(`${file}: ${problem}${offset === undefined ? "" : ` (at byte ${offset})`}`, options);
    this.file = file;
    this.offset = offset;
  }
}
