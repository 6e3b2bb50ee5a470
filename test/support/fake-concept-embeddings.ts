import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A fake OpenAI-compatible embeddings upstream on 127.0.0.1 whose vectors are concepts: one
 * dimension per word group a text speaks of (and one for texts about none of them), so a test knows
 * which texts are near in meaning without sharing a word. Every input it was sent is recorded.
 */
export interface ConceptEmbeddings {
  /** The base URL for an `openai` provider (ends in /v1). */
  url: string;
  /** The inputs of every embeddings request, in order. */
  inputs: string[][];
  close(): Promise<void>;
}

export async function startConceptEmbeddings(concepts: readonly (readonly string[])[]): Promise<ConceptEmbeddings> {
  const vectorOf = (text: string): number[] => {
    const lower = text.toLowerCase();
    const vector = concepts.map((words) => words.filter((word) => lower.includes(word)).length);
    vector.push(vector.every((x) => x === 0) ? 1 : 0);
    return vector;
  };
  const inputs: string[][] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      if (req.method !== "POST" || !req.url?.endsWith("/embeddings")) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "Invalid URL", type: "invalid_request_error", param: null, code: null } }));
        return;
      }
      const parsed = JSON.parse(body) as { input: string | string[]; model: string };
      const input = typeof parsed.input === "string" ? [parsed.input] : parsed.input;
      inputs.push(input);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          object: "list",
          model: parsed.model,
          data: input.map((text, index) => ({ object: "embedding", index, embedding: vectorOf(text) })),
          usage: { prompt_tokens: 4, total_tokens: 4 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    inputs,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
