import { formatBytes } from "./models.js";
import { failureText, OllamaApi } from "./ollama-client.js";

export interface PsEntry {
  name: string;
  model: string;
  size: number;
  size_vram: number;
  digest: string;
  expires_at: string;
  context_length?: number;
  details?: { quantization_level?: string };
}

/** `tandem ps`: the models the server's local engine holds in memory (its /api/ps), as a table or JSON. */
export async function ps(options: { url?: string; key?: string; json?: boolean }): Promise<number> {
  const api = new OllamaApi(options, "ps");
  let models: PsEntry[];
  try {
    models = (await api.get<{ models: PsEntry[] }>("/api/ps")).models;
  } catch (err) {
    process.stderr.write(`tandem ps: ${failureText(err)}\n`);
    return 1;
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ models }, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(renderPsTable(models, Date.now()));
  return 0;
}

/** Ollama's `ollama ps` columns: NAME, ID, SIZE, PROCESSOR, CONTEXT, UNTIL. */
export function renderPsTable(models: readonly PsEntry[], now: number): string {
  const rows = [["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"]];
  for (const m of models) {
    rows.push([
      m.name,
      m.digest.slice(0, 12),
      formatBytes(m.size),
      processor(m),
      m.context_length === undefined ? "" : String(m.context_length),
      until(m.expires_at, now),
    ]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return `${rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd((widths[i] ?? 0) + 3))
        .join("")
        .trimEnd(),
    )
    .join("\n")}\n`;
}

function processor(m: PsEntry): string {
  if (!m.size || m.size_vram <= 0) return "100% CPU";
  if (m.size_vram >= m.size) return "100% GPU";
  const gpu = Math.round((m.size_vram / m.size) * 100);
  return `${100 - gpu}%/${gpu}% CPU/GPU`;
}

function until(expiresAt: string, now: number): string {
  const ms = new Date(expiresAt).getTime() - now;
  if (!Number.isFinite(ms) || ms > 100 * 365 * 86_400_000) return "Forever";
  if (ms <= 0) return "Stopping...";
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return "Less than a minute from now";
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? "" : "s"} from now`;
  const hours = Math.round(minutes / 60);
  return `${hours} hour${hours === 1 ? "" : "s"} from now`;
}
