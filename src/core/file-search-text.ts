/**
 * The results as the model reads them: each passage with its file's name, delimited so a passage
 * cannot pass for another. Not the file's id: 24 mixed-case characters read as a credential to
 * privacy detection, which would make every turn after a search private.
 */
export function fileSearchText(passages: ReadonlyArray<{ filename: string; text: string }>): string {
  if (passages.length === 0) return "No passage of the user's files matches these queries.";
  return passages
    .map(
      (hit, i) =>
        `<passage index="${i + 1}" filename=${JSON.stringify(hit.filename)}>\n${hit.text.replaceAll("</passage>", "</ passage>")}\n</passage>`,
    )
    .join("\n");
}
