import { failureText, OllamaApi } from "./ollama-client.js";
import type { PsEntry } from "./ps.js";

/** `tandem stop MODEL`: unloads a model now (Ollama's keep_alive 0), as `ollama stop` does. */
export async function stop(model: string, options: { url?: string; key?: string }): Promise<number> {
  const api = new OllamaApi(options, "stop");
  try {
    const loaded = (await api.get<{ models: PsEntry[] }>("/api/ps")).models;
    const match = loaded.find((m) => m.name === model || m.name === `local/${model}`);
    if (!match) {
      process.stderr.write(
        `tandem stop: no loaded model named '${model}' (loaded: ${loaded.map((m) => m.name).join(", ") || "none"})\n`,
      );
      return 1;
    }
    await api.post("/api/generate", { model: match.name, prompt: "", keep_alive: 0, stream: false });
    process.stderr.write(`stopped ${match.name}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`tandem stop: ${failureText(err)}\n`);
    return 1;
  }
}
