/**
 * A configured model path that is a named pipe (FIFO): start-up reads the models' headers, and
 * opening a pipe waits for a writer, forever. It is checked first: the server starts, and a request
 * for the model gets the clear "is not a file" 503 a directory gets.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const dir = mkdtempSync(join(tmpdir(), "tandem-fifo-"));
const fifo = join(dir, "fifo.gguf");
execFileSync("mkfifo", [fifo]);
let tandem: RunningTandem | undefined;

after(async () => {
  // Old code sits in open() on the pipe: a writer lets it go, so the test process can end.
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // No reader is waiting on it (ENXIO): nothing to let go.
  }
  await tandem?.close();
  rmSync(dir, { recursive: true, force: true });
});

it("starts with a configured model path that is a FIFO, and refuses that model as not a file", { timeout: 20_000 }, async () => {
  tandem = await startTandem({
    providers: { local: { kind: "llamacpp", threads: 1, models: { ff: { path: fifo } } } },
  });
  const res = await fetch(`${tandem.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "local/ff", messages: [{ role: "user", content: "hi" }], max_tokens: 2 }),
  });
  const body = await res.text();
  assert.equal(res.status, 503, body);
  assert.match(body, /is not a file/);
});
