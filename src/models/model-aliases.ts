/** A short name for a well-known small instruct GGUF on the Hugging Face hub. */
export interface ModelAlias {
  /** The short name, also the installed model's name (`local/<alias>`). */
  alias: string;
  repo: string;
  /** The GGUF file in the repo (all Q4_K_M). */
  file: string;
  /** One line for `tandem models pull --help` and the README. */
  description: string;
}

/**
 * The aliases `tandem models pull` and Ollama's `/api/pull` accept. Each is a Q4_K_M instruct
 * model with a chat template, small enough for a laptop CPU.
 */
export const MODEL_ALIASES: readonly ModelAlias[] = [
  {
    alias: "qwen2.5-0.5b",
    repo: "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
    file: "qwen2.5-0.5b-instruct-q4_k_m.gguf",
    description: "Qwen2.5 0.5B Instruct, the smallest useful chat model",
  },
  {
    alias: "qwen2.5-1.5b",
    repo: "Qwen/Qwen2.5-1.5B-Instruct-GGUF",
    file: "qwen2.5-1.5b-instruct-q4_k_m.gguf",
    description: "Qwen2.5 1.5B Instruct",
  },
  {
    alias: "llama3.2-1b",
    repo: "bartowski/Llama-3.2-1B-Instruct-GGUF",
    file: "Llama-3.2-1B-Instruct-Q4_K_M.gguf",
    description: "Meta Llama 3.2 1B Instruct",
  },
  {
    alias: "llama3.2-3b",
    repo: "bartowski/Llama-3.2-3B-Instruct-GGUF",
    file: "Llama-3.2-3B-Instruct-Q4_K_M.gguf",
    description: "Meta Llama 3.2 3B Instruct",
  },
  {
    alias: "smollm2-360m",
    repo: "bartowski/SmolLM2-360M-Instruct-GGUF",
    file: "SmolLM2-360M-Instruct-Q4_K_M.gguf",
    description: "Hugging Face SmolLM2 360M Instruct, tiny and fast",
  },
  {
    alias: "smollm2-1.7b",
    repo: "bartowski/SmolLM2-1.7B-Instruct-GGUF",
    file: "SmolLM2-1.7B-Instruct-Q4_K_M.gguf",
    description: "Hugging Face SmolLM2 1.7B Instruct",
  },
];

/** The alias to suggest when no model is installed. */
export const DEFAULT_MODEL_ALIAS = "qwen2.5-0.5b";

/** The alias of that name (case-insensitive), if there is one. */
export function findModelAlias(name: string): ModelAlias | undefined {
  const wanted = name.toLowerCase();
  return MODEL_ALIASES.find((a) => a.alias === wanted);
}
