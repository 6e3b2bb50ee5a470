import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileCitations } from "../../../../src/dialects/openai/responses/file-citations.js";

const found = [
  { fileId: "file-a", filename: "a.md", score: 0.9, text: "x" },
  { fileId: "file-b", filename: "notes.txt", score: 0.8, text: "y" },
  { fileId: "file-a", filename: "a.md", score: 0.7, text: "z" },
];

describe("fileCitations", () => {
  it("cites a found file wherever the text names it, at the end of the name, in order", () => {
    const text = "See notes.txt and a.md; a.md again.";
    assert.deepEqual(fileCitations(text, found), [
      { type: "file_citation", file_id: "file-b", filename: "notes.txt", index: 13 },
      { type: "file_citation", file_id: "file-a", filename: "a.md", index: 22 },
      { type: "file_citation", file_id: "file-a", filename: "a.md", index: 28 },
    ]);
  });

  it("a name inside a longer one is not a naming; a name two found files share cites neither", () => {
    assert.deepEqual(fileCitations("data.md and xa.md", found), []);
    const twins = [...found, { fileId: "file-c", filename: "a.md", score: 0.5, text: "w" }];
    assert.deepEqual(fileCitations("a.md", twins), []);
  });

  it("nothing found, nothing cited", () => {
    assert.deepEqual(fileCitations("a.md", []), []);
  });
});
