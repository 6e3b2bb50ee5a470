import type { FileSearchResult } from "../../../core/index.js";

/** OpenAI's `file_citation` annotation of an `output_text` part. */
export interface FileCitation {
  type: "file_citation";
  file_id: string;
  filename: string;
  /** Where in the part's text the citation is (a character offset): the end of the file's name there. */
  index: number;
}

/**
 * The `file_citation`s of an answer's text: wherever it names a file a search of this response
 * found (the tool asks the model to name the file it answers from), one annotation at the end of
 * that name. Only what can be read off the text is claimed: a file is cited where it is named, never
 * guessed from what a sentence says, and a name two found files share cites neither.
 */
export function fileCitations(text: string, found: readonly FileSearchResult[]): FileCitation[] {
  const byName = new Map<string, string | null>();
  for (const result of found) {
    if (result.filename === "") continue;
    const known = byName.get(result.filename);
    byName.set(result.filename, known === undefined || known === result.fileId ? result.fileId : null);
  }
  const citations: FileCitation[] = [];
  for (const [filename, fileId] of byName) {
    if (fileId === null) continue;
    for (let at = text.indexOf(filename); at !== -1; at = text.indexOf(filename, at + filename.length)) {
      // A name inside a longer one (`a.md` in `data.md`) is not a naming of it.
      const before = text[at - 1];
      if (before !== undefined && /[\p{L}\p{N}._-]/u.test(before)) continue;
      citations.push({ type: "file_citation", file_id: fileId, filename, index: at + filename.length });
    }
  }
  return citations.sort((a, b) => a.index - b.index);
}
