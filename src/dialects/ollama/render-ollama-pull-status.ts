import type { PullEvent } from "../../core/index.js";

/** One line of Ollama's `POST /api/pull` stream (api.ProgressResponse in Ollama's api/types.go). */
export interface OllamaPullStatus {
  status: string;
  digest?: string;
  total?: number;
  completed?: number;
}

/**
 * The Ollama `/api/pull` line for a pull step, or undefined for a step Ollama has no line for.
 * Ollama sends `pulling manifest`, then `pulling <first 12 hex digits>` with the layer's digest,
 * total and completed bytes, then `verifying sha256 digest`, `writing manifest`, `success`.
 */
export function ollamaPullStatus(event: PullEvent): OllamaPullStatus | undefined {
  switch (event.type) {
    case "resolving":
      return { status: "pulling manifest" };
    case "resolved":
      return undefined;
    case "progress": {
      // Built in Ollama's field order: status, digest, total, completed.
      const line: OllamaPullStatus = { status: event.sha256 ? `pulling ${event.sha256.slice(0, 12)}` : `pulling ${event.name}` };
      if (event.sha256) line.digest = `sha256:${event.sha256}`;
      if (event.totalBytes !== undefined) line.total = event.totalBytes;
      line.completed = event.doneBytes;
      return line;
    }
    case "verifying":
      return { status: "verifying sha256 digest" };
    case "installing":
      return { status: "writing manifest" };
    case "done":
      return { status: "success" };
  }
}
