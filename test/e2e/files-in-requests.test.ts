/**
 * Stored files in requests, to every target, through the official openai SDK against a real tandem
 * with the encrypted store on: a file uploaded with `client.files.create` and named by `file_id` in a
 * Responses `input_file`/`input_image` part or a chat completions `file` part reaches an Anthropic
 * fake as a `document` block (a PDF), a text block (a text file) or an image block; an OpenAI chat
 * fake as a `file` part with `file_data` or text; Ollama as the PDF's extracted text; a
 * Responses-native fake as `input_file` with `file_data` (it does not know tandem's ids). Bytes sent
 * inline get the same treatment. A private file keeps the request local; on a `redact` route its
 * text is redacted; the egress audit has the digest of the body that carried it. A stored response
 * keeps the `file_id` and a later turn on another target reads the file again; once the file is
 * deleted, a later turn is answered without it and says so.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI, { toFile } from "openai";
import type { FileObject } from "openai/resources/files";
import type { ResponseInputItem } from "openai/resources/responses/responses";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOllamaUpstream, startFakeOllama } from "../support/fake-ollama-upstream.js";
import { type FakeResponsesUpstream, startFakeOpenAIResponses } from "../support/fake-openai-responses-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";
import { tinyPdf } from "../support/tiny-pdf.js";

const CLAUDE = "claude/claude-sonnet-4-5";
const CHAT = "chat/gpt-4o-mini";
const OLLAMA = "ol/llama3.2:latest";
const NATIVE = "gpt/gpt-5-mini";
const REPORT = ["Quarterly revenue grew 12 percent.", "Churn fell to 3 percent."];
const EMAIL = "jane.doe@example.com";
// Assembled at run time so no scanner takes this file for a leak.
const AWS_KEY = ["AKIA", "Z7Q3VN5RT2XW6LMB"].join("");
// A 1x1 PNG.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);

let tandem: RunningTandem;
let claude: FakeAnthropic;
let chat: FakeOpenAIUpstream;
let ollama: FakeOllamaUpstream;
let native: FakeResponsesUpstream;
let client: OpenAI;
let pdf: FileObject;
let notes: FileObject;
let image: FileObject;
const pdfBytes = tinyPdf(REPORT);

before(async () => {
  [claude, chat, ollama, native] = await Promise.all([
    startFakeAnthropic({ models: ["claude-sonnet-4-5"] }),
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
    startFakeOllama(),
    startFakeOpenAIResponses(),
  ]);
  const once = { retry: { attempts: 1 }, imagesArePrivate: false };
  tandem = await startTandem(
    {
      providers: {
        claude: { kind: "anthropic", baseUrl: claude.url, apiKeys: ["env:UP_ANTHROPIC"], local: false },
        chat: { kind: "openai", baseUrl: chat.url, apiKeys: ["env:UP_OPENAI"], local: false },
        gpt: { kind: "openai", baseUrl: native.url, apiKeys: ["env:UP_OPENAI"], responses: true, local: false },
        // The same upstream, served through the Responses API alone (canonical requests go as Responses requests).
        only: { kind: "openai", baseUrl: native.url, apiKeys: ["env:UP_OPENAI"], responses: "only", local: false },
        ol: { kind: "ollama", baseUrl: ollama.url },
      },
      routes: {
        claude: { tiers: [CLAUDE], ...once },
        chat: { tiers: [CHAT], ...once },
        native: { tiers: [NATIVE], ...once },
        ollama: { tiers: [OLLAMA], ...once },
        // Cloud first; private data (by default policy) stays on the machine.
        guarded: { tiers: [CLAUDE, OLLAMA], ...once },
        redacted: { tiers: [CLAUDE], privacy: "redact", ...once },
        "redacted-chat": { tiers: [CHAT], privacy: "redact", ...once },
        "redacted-native": { tiers: ["only/gpt-5-mini"], privacy: "redact", ...once },
      },
    },
    { env: { UP_OPENAI: "sk-upstream-openai", UP_ANTHROPIC: "sk-ant-upstream" }, store: true },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  pdf = await client.files.create({ file: await toFile(pdfBytes, "report.pdf"), purpose: "user_data" });
  notes = await client.files.create({
    file: await toFile(Buffer.from("# Notes\nShip on Friday.\n"), "notes.md"),
    purpose: "user_data",
  });
  image = await client.files.create({ file: await toFile(PNG, "dot.png"), purpose: "vision" });
});

after(async () => {
  await tandem?.close();
  await Promise.all([claude?.close(), chat?.close(), ollama?.close(), native?.close()]);
});

beforeEach(() => {
  for (const fake of [claude, chat, ollama]) fake.requests.length = 0;
  native.requests.length = 0;
  native.responseBodies.length = 0;
  native.responseTexts.length = 0;
  claude.script(() => ({ kind: "text", text: "From Claude." }));
  chat.script(() => ({ kind: "text", text: "From chat." }));
  ollama.script(() => ({ kind: "text", text: "From Ollama." }));
  native.script(() => ({ kind: "answer", text: "From Responses." }));
});

function ask(...parts: unknown[]): ResponseInputItem[] {
  return [{ role: "user", content: [{ type: "input_text", text: "What do these say?" }, ...parts] as never }];
}

type Json = Record<string, unknown>;
const lastBody = (fake: { requests: { body: unknown }[] }) => fake.requests.at(-1)?.body as Json;
const base64 = pdfBytes.toString("base64");

describe("a file_id in a Responses request", () => {
  it("reaches Anthropic as a document block, a text block and an image block", async () => {
    const { data, response } = await client.responses
      .create({
        model: "claude",
        input: ask(
          { type: "input_file", file_id: pdf.id },
          { type: "input_file", file_id: notes.id },
          { type: "input_image", file_id: image.id, detail: "auto" },
        ),
      })
      .withResponse();
    assert.equal(data.output_text, "From Claude.");
    assert.equal(response.headers.get("x-tandem-target"), CLAUDE);
    assert.equal(response.headers.get("x-tandem-warnings"), null);
    const content = (lastBody(claude).messages as Json[])[0]?.content as Json[];
    assert.deepEqual(content, [
      { type: "text", text: "What do these say?" },
      { type: "document", source: { type: "base64", media_type: "application/pdf", data: base64 }, title: "report.pdf" },
      { type: "text", text: '<file name="notes.md">\n# Notes\nShip on Friday.\n\n</file>' },
      { type: "image", source: { type: "base64", media_type: "image/png", data: PNG.toString("base64") } },
    ]);
  });

  it("reaches an OpenAI chat target as a file part with file_data, text and an image_url", async () => {
    await client.responses.create({
      model: "chat",
      input: ask({ type: "input_file", file_id: pdf.id }, { type: "input_file", file_id: notes.id }),
    });
    const content = (lastBody(chat).messages as Json[])[0]?.content as Json[];
    assert.deepEqual(content, [
      { type: "text", text: "What do these say?" },
      { type: "file", file: { filename: "report.pdf", file_data: `data:application/pdf;base64,${base64}` } },
      { type: "text", text: '<file name="notes.md">\n# Notes\nShip on Friday.\n\n</file>' },
    ]);
  });

  it("reaches Ollama (a target that reads no PDF) as the PDF's extracted text", async () => {
    const { response } = await client.responses
      .create({ model: "ollama", input: ask({ type: "input_file", file_id: pdf.id }) })
      .withResponse();
    assert.equal(response.headers.get("x-tandem-target"), OLLAMA);
    const message = (lastBody(ollama).messages as Json[])[0] as { content: string; images?: unknown };
    assert.equal(message.content, `What do these say?\n\n<file name="report.pdf">\n${REPORT.join("\n")}\n</file>`);
    assert.equal(message.images, undefined);
  });

  it("a PDF with no text to give a target that reads no PDF is left out and named in x-tandem-warnings", async () => {
    const scan = await client.files.create({
      file: await toFile(Buffer.from("%PDF-1.4 scanned pages"), "scan.pdf"),
      purpose: "user_data",
    });
    const { response } = await client.responses
      .create({ model: "ollama", input: ask({ type: "input_file", file_id: scan.id }) })
      .withResponse();
    assert.match(
      response.headers.get("x-tandem-warnings") ?? "",
      /file "scan\.pdf" \(application\/pdf, no text this target can read\)/,
    );
    assert.equal(((lastBody(ollama).messages as Json[])[0] as { content: string }).content, "What do these say?");
    // Anthropic reads the PDF itself: nothing to say.
    const claudeAnswer = await client.responses
      .create({ model: "claude", input: ask({ type: "input_file", file_id: scan.id }) })
      .withResponse();
    assert.equal(claudeAnswer.response.headers.get("x-tandem-warnings"), null);
  });

  it("reaches a Responses-native target as input_file with file_data (it does not know tandem's ids)", async () => {
    const data = await client.responses.create({
      model: "native",
      input: ask({ type: "input_file", file_id: pdf.id }, { type: "input_image", file_id: image.id, detail: "low" }),
    });
    assert.equal(data.output_text, "From Responses.");
    const input = native.responseBodies.at(-1)?.input as Json[];
    assert.deepEqual((input[0] as Json).content, [
      { type: "input_text", text: "What do these say?" },
      { type: "input_file", filename: "report.pdf", file_data: `data:application/pdf;base64,${base64}` },
      { type: "input_image", image_url: `data:image/png;base64,${PNG.toString("base64")}`, detail: "low" },
    ]);
    // Stored as the client sent it: the file_id.
    const listed = await client.responses.inputItems.list(data.id);
    assert.deepEqual((listed.data[0] as { content: unknown[] }).content[1], { type: "input_file", file_id: pdf.id });
  });

  it("bytes sent inline get the same treatment (a text file as text, a PDF's text for Ollama)", async () => {
    await client.responses.create({
      model: "ollama",
      input: ask(
        {
          type: "input_file",
          filename: "a.csv",
          file_data: `data:text/csv;base64,${Buffer.from("x,y\n1,2\n").toString("base64")}`,
        },
        { type: "input_file", filename: "r.pdf", file_data: `data:application/pdf;base64,${base64}` },
      ),
    });
    const message = (lastBody(ollama).messages as Json[])[0] as { content: string };
    assert.equal(
      message.content,
      `What do these say?\n\n<file name="a.csv">\nx,y\n1,2\n\n</file>\n\n<file name="r.pdf">\n${REPORT.join("\n")}\n</file>`,
    );
  });

  it("an id tandem does not have: only a Responses-native target takes it; otherwise OpenAI's 400 naming the part", async () => {
    await assert.rejects(
      client.responses.create({ model: "claude", input: ask({ type: "input_file", file_id: "file-unknown" }) }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === "input[0].content[1]",
    );
    assert.equal(claude.requests.length, 0);
    await client.responses.create({ model: "native", input: ask({ type: "input_file", file_id: "file-unknown" }) });
    const input = native.responseBodies.at(-1)?.input as Json[];
    assert.deepEqual(((input[0] as Json).content as Json[])[1], { type: "input_file", file_id: "file-unknown" });
  });
});

describe("a file in a chat completions request", () => {
  it("by file_id: a document block for Anthropic, text for Ollama", async () => {
    const messages = [
      {
        role: "user" as const,
        content: [
          { type: "text" as const, text: "Summarize." },
          { type: "file" as const, file: { file_id: pdf.id } },
        ],
      },
    ];
    const data = await client.chat.completions.create({ model: "claude", messages });
    assert.equal(data.choices[0]?.message.content, "From Claude.");
    const content = (lastBody(claude).messages as Json[])[0]?.content as Json[];
    assert.deepEqual(content[1], {
      type: "document",
      source: { type: "base64", media_type: "application/pdf", data: base64 },
      title: "report.pdf",
    });
    await client.chat.completions.create({ model: "ollama", messages });
    const text = ((lastBody(ollama).messages as Json[])[0] as { content: string }).content;
    assert.ok(text.includes(REPORT[0] as string), text);
  });

  it("by file_id to an OpenAI chat target on its own wire: the part sent with the file's bytes inline", async () => {
    await client.chat.completions.create({
      model: "chat",
      messages: [{ role: "user", content: [{ type: "file", file: { file_id: notes.id } }] }],
    });
    const content = (lastBody(chat).messages as Json[])[0]?.content as Json[];
    assert.deepEqual(content, [{ type: "text", text: '<file name="notes.md">\n# Notes\nShip on Friday.\n\n</file>' }]);
  });
});

describe("privacy", () => {
  it("a private file keeps the request on a local target", async () => {
    const secret = await client.files.create({
      file: await toFile(Buffer.from(`aws_access_key_id = ${AWS_KEY}\n`), "creds.txt"),
      purpose: "user_data",
    });
    const { response } = await client.responses
      .create({ model: "guarded", input: ask({ type: "input_file", file_id: secret.id }) })
      .withResponse();
    assert.equal(response.headers.get("x-tandem-target"), OLLAMA);
    assert.equal(response.headers.get("x-tandem-sensitivity"), "private");
    assert.equal(claude.requests.length, 0);
    const text = ((lastBody(ollama).messages as Json[])[0] as { content: string }).content;
    assert.ok(text.includes(AWS_KEY), "the local target reads the file");
    // The same without the file goes to the cloud target first.
    const plain = await client.responses.create({ model: "guarded", input: "Hello" }).withResponse();
    assert.equal(plain.response.headers.get("x-tandem-target"), CLAUDE);
  });

  it("a PDF whose text has private data is redacted like any text on a redact route, and the answer restored", async () => {
    const letter = await client.files.create({
      file: await toFile(tinyPdf([`Write to ${EMAIL} today.`]), "letter.pdf"),
      purpose: "user_data",
    });
    let seen = "";
    claude.script((request) => {
      seen = JSON.stringify(request.body);
      const placeholder = /\[[A-Z_]*EMAIL[A-Z_0-9]*\]|<[A-Za-z_]*email[A-Za-z_0-9]*>|EMAIL_\d+/i.exec(seen)?.[0] ?? "?";
      return { kind: "text", text: `Reply to ${placeholder}.` };
    });
    const data = await client.responses.create({
      model: "redacted",
      input: ask({ type: "input_file", file_id: letter.id }),
    });
    assert.equal(seen.includes(EMAIL), false, "the address did not leave");
    assert.equal(seen.includes('"type":"document"'), false, "the bytes cannot be redacted: the text went instead");
    assert.match(seen, /letter\.pdf/);
    assert.equal(data.output_text, `Reply to ${EMAIL}.`);
  });

  it("on a redact route, a same-wire target gets the redacted text, never the PDF's bytes (chat and Responses)", async () => {
    const letter = await client.files.create({
      file: await toFile(tinyPdf([`Write to ${EMAIL} today.`]), "letter.pdf"),
      purpose: "user_data",
    });
    await client.chat.completions.create({
      model: "redacted-chat",
      messages: [{ role: "user", content: [{ type: "file", file: { file_id: letter.id } }] }],
    });
    const sentChat = JSON.stringify(lastBody(chat));
    assert.equal(sentChat.includes(EMAIL), false);
    assert.equal(sentChat.includes("file_data"), false, sentChat.slice(0, 300));
    assert.match(sentChat, /letter\.pdf/);
    await client.responses.create({ model: "redacted-native", input: ask({ type: "input_file", file_id: letter.id }) });
    const sentNative = native.responseTexts.at(-1) as string;
    assert.equal(sentNative.includes(EMAIL), false);
    assert.equal(sentNative.includes("file_data"), false, sentNative.slice(0, 300));
    // A file with nothing to redact goes as it is, on the same routes.
    await client.chat.completions.create({
      model: "redacted-chat",
      messages: [{ role: "user", content: [{ type: "file", file: { file_id: pdf.id } }] }],
    });
    assert.match(JSON.stringify(lastBody(chat)), /"file_data":"data:application\/pdf;base64,/);
  });

  it("the egress audit has the digest of the body that carried the file", async () => {
    await client.responses.create({ model: "native", input: ask({ type: "input_file", file_id: pdf.id }) });
    const sent = native.responseTexts.at(-1) as string;
    assert.ok(sent.includes(base64), `the file's bytes were in the body: ${sent.slice(0, 300)}`);
    const sha256 = createHash("sha256").update(sent).digest("hex");
    const audit = (await (await fetch(`${tandem.url}/v1/audit?limit=50`)).json()) as {
      data: { sha256: string; target: string; bytes: number }[];
    };
    const row = audit.data.find((r) => r.sha256 === sha256);
    assert.ok(row, "an audit row for exactly the body sent");
    assert.equal(row.target, NATIVE);
    assert.equal(row.bytes, Buffer.byteLength(sent));
  });
});

describe("stored responses", () => {
  it("keep the file_id; a later turn on another target reads the file again; once deleted, it is left out and said", async () => {
    const kept = await client.files.create({
      file: await toFile(tinyPdf(["Kept for later."]), "later.pdf"),
      purpose: "user_data",
    });
    const first = await client.responses.create({ model: "claude", input: ask({ type: "input_file", file_id: kept.id }) });
    const second = await client.responses.create({ model: "ollama", previous_response_id: first.id, input: "And then?" });
    const history = (lastBody(ollama).messages as { content: string }[]).map((m) => m.content).join("\n");
    assert.ok(history.includes("Kept for later."), history);
    assert.equal(second.output_text, "From Ollama.");

    await client.files.delete(kept.id);
    const { data: third, response } = await client.responses
      .create({ model: "chat", previous_response_id: second.id, input: "Anything else?" })
      .withResponse();
    assert.equal(third.output_text, "From chat.");
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /input_file parts were left out: tandem has no file/);
    assert.equal(JSON.stringify(lastBody(chat)).includes("Kept for later"), false);
    // The stored input still names the file as the client did.
    const listed = await client.responses.inputItems.list(first.id);
    assert.deepEqual((listed.data[0] as { content: unknown[] }).content[1], { type: "input_file", file_id: kept.id });
  });
});

describe("a request that names stored files over and over", () => {
  const MAX = 4096;
  let small: RunningTandem;
  let smallClient: OpenAI;
  let file: FileObject;

  before(async () => {
    small = await startTandem({
      providers: { ol: { kind: "ollama", baseUrl: ollama.url } },
      routes: { ollama: { tiers: [OLLAMA], retry: { attempts: 1 } } },
      files: { maxBytes: MAX },
    });
    smallClient = new OpenAI({ baseURL: `${small.url}/v1`, apiKey: "unused", maxRetries: 0 });
    file = await smallClient.files.create({
      file: await toFile(Buffer.from("x".repeat(1500)), "part.txt"),
      purpose: "user_data",
    });
  });
  after(() => small?.close());

  it("is a 413 once the files it carries, each counted as often as named, pass files.maxBytes (a small body never builds a huge one)", async () => {
    const part = { type: "file" as const, file: { file_id: file.id } };
    const ok = await smallClient.chat.completions.create({
      model: "ollama",
      messages: [{ role: "user", content: [part, part] }],
    });
    assert.equal(ok.choices[0]?.message.content, "From Ollama.");
    const sent = ollama.requests.length;
    for (const send of [
      () => smallClient.chat.completions.create({ model: "ollama", messages: [{ role: "user", content: [part, part, part] }] }),
      () =>
        smallClient.responses.create({
          model: "ollama",
          input: ask(...[1, 2, 3].map(() => ({ type: "input_file", file_id: file.id }))),
        }),
    ]) {
      await assert.rejects(send(), (err: unknown) => {
        assert.ok(err instanceof OpenAI.APIError && err.status === 413, String(err));
        assert.match(err.message, /files\.maxBytes/);
        return true;
      });
    }
    assert.equal(ollama.requests.length, sent, "nothing was sent");
  });
});
