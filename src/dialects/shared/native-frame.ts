/** Reading an upstream's own frames on the same-wire path: their JSON, and their `model` rewritten. */
import type { StreamEvent } from "../../core/index.js";

/** `"model": "<anything>"`: the first one in a frame is its own (string values cannot hold a bare quote). */
const MODEL_FIELD = /("model"\s*:\s*)"(?:[^"\\]|\\.)*"/;

/**
 * An upstream frame's JSON text (an OpenAI chunk, an Ollama line) with `model` set to `model` (already
 * JSON-encoded), every other byte as it came: cheaper than parsing and re-serialising every frame,
 * and nothing else changes.
 */
export function withModelField(data: string, model: string): string {
  return data.replace(MODEL_FIELD, (_match, key: string) => key + model);
}

/**
 * An upstream frame's JSON: as the provider parsed it (`frame.json`, shared with whatever else holds
 * the frame: read it, never change it; copy what is to be changed), or parsed here when it was not.
 */
export function frameJson(frame: Extract<StreamEvent, { type: "frame" }>): unknown {
  return frame.json ?? JSON.parse(frame.data);
}
