/**
 * The canonical file part (core's FilePart) as each provider renders it: a PDF as a document where
 * the wire reads one (Anthropic `document`, OpenAI chat `file` with `file_data`, Responses
 * `input_file`), as its text with its name everywhere else (Ollama, the local engine, other types),
 * and a file with no text to give such a target left out and named by `unsent` (x-tandem-warnings).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ChatRequest, FilePart, Message, ProviderChatRequest } from "../../src/core/index.js";
import { convertToAnthropicMessages } from "../../src/providers/anthropic/convert-to-anthropic-messages.js";
import { anthropicUnsent } from "../../src/providers/anthropic/convert-to-anthropic-request.js";
import { toChatHistory } from "../../src/providers/llamacpp/worker/to-chat-history.js";
import { ollamaUnsent } from "../../src/providers/ollama/convert-to-ollama-chat-request.js";
import { convertToOllamaMessages } from "../../src/providers/ollama/convert-to-ollama-messages.js";
import { convertToOpenAIMessages } from "../../src/providers/openai/convert-to-openai-messages.js";
import { convertToOpenAIResponsesRequest } from "../../src/providers/openai/convert-to-openai-responses-request.js";
import { OpenAIProvider } from "../../src/providers/openai/openai-provider.js";

const pdf: FilePart = { type: "file", mediaType: "application/pdf", data: "JVBERi0=", filename: "r.pdf", text: "Page one." };
const scan: FilePart = { type: "file", mediaType: "application/pdf", data: "JVBERi0=", filename: "scan.pdf" };
const notes: FilePart = { type: "file", mediaType: "text/markdown", data: "IyBO", filename: "n.md", text: "# N" };
const docx: FilePart = { type: "file", mediaType: "application/msword", data: "AAAA", filename: "w.doc" };
const ask = (...parts: FilePart[]): Message[] => [{ role: "user", content: [{ type: "text", text: "Read." }, ...parts] }];
const request = (...parts: FilePart[]): ChatRequest => ({ model: "m", stream: false, messages: ask(...parts) });

describe("a file part on each wire", () => {
  it("Anthropic: a PDF as a document block, a text file as text, one without text left out", () => {
    const { messages } = convertToAnthropicMessages(ask(pdf, notes, docx));
    assert.deepEqual(messages[0]?.content, [
      { type: "text", text: "Read." },
      { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" }, title: "r.pdf" },
      { type: "text", text: '<file name="n.md">\n# N\n</file>' },
    ]);
    assert.deepEqual(anthropicUnsent(request(pdf, notes, docx)), [
      'file "w.doc" (application/msword, no text this target can read)',
    ]);
    assert.deepEqual(anthropicUnsent(request(scan)), [], "a scanned PDF is still a document Anthropic reads");
  });

  it("OpenAI chat: a PDF as a file part with file_data, a text file as text", () => {
    const [message] = convertToOpenAIMessages(ask(pdf, notes));
    assert.deepEqual(message, {
      role: "user",
      content: [
        { type: "text", text: "Read." },
        { type: "file", file: { filename: "r.pdf", file_data: "data:application/pdf;base64,JVBERi0=" } },
        { type: "text", text: '<file name="n.md">\n# N\n</file>' },
      ],
    });
    const provider = new OpenAIProvider({ id: "o", baseUrl: "http://127.0.0.1:9/v1" } as ConstructorParameters<
      typeof OpenAIProvider
    >[0]);
    assert.deepEqual(provider.unsent(request(pdf, scan, docx)), [
      'file "w.doc" (application/msword, no text this target can read)',
    ]);
  });

  it("Responses (a provider served through it alone): input_file with file_data, input_text", () => {
    const body = convertToOpenAIResponsesRequest({ ...request(pdf, notes), upstreamModel: "m" } as ProviderChatRequest, "o/m");
    const input = body.input as { content: unknown[] }[];
    assert.deepEqual(input[0]?.content.slice(1), [
      { type: "input_file", filename: "r.pdf", file_data: "data:application/pdf;base64,JVBERi0=" },
      { type: "input_text", text: '<file name="n.md">\n# N\n</file>' },
    ]);
  });

  it("Ollama and the local engine: the files' text, apart from the text around it; one without text named", () => {
    const [message] = convertToOllamaMessages(ask(pdf, notes, scan));
    assert.equal(message?.content, 'Read.\n\n<file name="r.pdf">\nPage one.\n</file>\n\n<file name="n.md">\n# N\n</file>');
    assert.equal(message?.images, undefined);
    assert.deepEqual(ollamaUnsent(request(pdf, scan)), ['file "scan.pdf" (application/pdf, no text this target can read)']);
    const history = toChatHistory(ask(pdf), "local/m");
    assert.deepEqual(history[0], { type: "user", text: 'Read.\n\n<file name="r.pdf">\nPage one.\n</file>' });
  });
});
