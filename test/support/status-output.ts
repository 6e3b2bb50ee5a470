import assert from "node:assert/strict";
import { status } from "../../src/cli/status.js";

/** What `tandem status` prints for the server at `url` (its stdout, captured), after asserting it exits 0. */
export async function statusOutput(url: string): Promise<string> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    assert.equal(await status({ url }), 0);
  } finally {
    process.stdout.write = write;
  }
  return lines.join("");
}
