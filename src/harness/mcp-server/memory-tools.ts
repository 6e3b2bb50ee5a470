import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { Memory } from "../../core/index.js";
import type { Memories } from "../memory/memories.js";
import { toolError, toolRefusal } from "./tool-error.js";

/** The longest search query, in characters (as GET /v1/memories?query=). */
const MAX_QUERY_CHARS = 4000;

const sensitivity = z.enum(["public", "internal", "private"]);

export const SEARCH_MEMORIES_DESCRIPTION =
  "Search what the user asked tandem to remember about them (their preferences, facts about their life and " +
  "work), best match first. A private memory's text is withheld (its id, score and sensitivity are shown): to " +
  "use private memories, ask a local model through ask_model with a route that recalls memories.";

export const searchMemoriesInput = {
  query: z.string().max(MAX_QUERY_CHARS).describe("What to look for, in a few words or a sentence."),
  limit: z.number().int().min(1).max(100).optional().describe("At most this many memories (default 10)."),
  min_score: z.number().min(0).max(1).optional().describe("Leave out matches scoring below this (0..1; default 0)."),
  sensitivity: sensitivity
    .optional()
    .describe("How sensitive the query is (where it may be embedded for semantic search). Default: detected."),
};

const memoryOutput = z.object({
  id: z.string(),
  text: z.string().nullable().describe("null when withheld (a private memory)."),
  sensitivity,
  score: z.number(),
  created_at: z.number(),
  metadata: z.record(z.string(), z.string()),
});

export const searchMemoriesOutput = { memories: z.array(memoryOutput) };

export const REMEMBER_DESCRIPTION =
  "Save a lasting fact about the user in tandem's memory, for every model and client to recall later: a " +
  "preference or a detail of their life or work they want remembered. Write it as one short sentence in the " +
  "third person ('The user is vegetarian'). Its sensitivity is detected (and never lower than declared); a " +
  "private memory is only ever given to models on this machine. Returns its id.";

export const rememberInput = {
  text: z.string().min(1).describe("The fact, as one short sentence about the user."),
  sensitivity: sensitivity.optional().describe("Declare it `private` to keep it on this machine. Default: detected."),
  metadata: z
    .record(z.string().min(1).max(64), z.string().max(512))
    .refine((pairs) => Object.keys(pairs).length <= 16, "at most 16 pairs")
    .optional()
    .describe("Up to 16 string pairs (keys up to 64 characters, values up to 512)."),
};

export const rememberOutput = {
  id: z.string().describe("The memory's id, mem_..."),
  sensitivity: sensitivity.describe("Its level: the one detected, never lower than declared."),
};

export const FORGET_DESCRIPTION =
  "Forget one of the user's memories for good, by its id (mem_...) from search_memories, when the user asks " +
  "to forget it or says it is no longer true.";

export const forgetInput = { id: z.string().min(1).max(64).describe("The memory's id, mem_...") };

export const forgetOutput = { id: z.string(), deleted: z.literal(true) };

/** Who saved a memory, in its metadata (the HTTP API's are the client's own; the model's say `model`). */
const SOURCE = "mcp";

export async function searchMemories(
  memories: Memories,
  args: z.infer<z.ZodObject<typeof searchMemoriesInput>>,
  signal: AbortSignal,
): Promise<CallToolResult> {
  try {
    const { hits } = await memories.search(
      args.query,
      { limit: args.limit ?? 10, minScore: args.min_score ?? 0, sensitivity: args.sensitivity },
      signal,
    );
    const found = hits.map((hit) => ({
      id: hit.memory.id,
      // An MCP client is most often an agent over a cloud model: a private memory's text would leave with its next turn.
      text: hit.memory.sensitivity === "private" ? null : hit.memory.text,
      sensitivity: hit.memory.sensitivity,
      score: hit.score,
      created_at: hit.memory.created_at,
      metadata: hit.memory.metadata ?? {},
    }));
    const lines = found.map(
      (m) => `${m.id} (${m.sensitivity}, score ${m.score.toFixed(2)}): ${m.text ?? "[private: text withheld]"}`,
    );
    return {
      content: [{ type: "text", text: lines.length > 0 ? lines.join("\n") : "No memory matches." }],
      structuredContent: { memories: found },
    };
  } catch (err) {
    signal.throwIfAborted();
    return toolError(err);
  }
}

export async function remember(
  memories: Memories,
  args: z.infer<z.ZodObject<typeof rememberInput>>,
  signal: AbortSignal,
): Promise<CallToolResult> {
  if (args.text.trim() === "") return toolRefusal("remember needs `text`: the fact to remember.");
  try {
    const memory: Memory = await memories.add(
      {
        text: args.text,
        metadata: { source: SOURCE, ...args.metadata },
        ...(args.sensitivity !== undefined && { sensitivity: args.sensitivity }),
      },
      signal,
    );
    return {
      content: [{ type: "text", text: `Remembered as ${memory.id} (${memory.sensitivity}).` }],
      structuredContent: { id: memory.id, sensitivity: memory.sensitivity },
    };
  } catch (err) {
    signal.throwIfAborted();
    return toolError(err);
  }
}

export async function forget(memories: Memories, args: z.infer<z.ZodObject<typeof forgetInput>>): Promise<CallToolResult> {
  const id = args.id.trim();
  try {
    if (!(await memories.delete(id))) return toolRefusal(`No memory has the id '${id}'.`);
    return { content: [{ type: "text", text: `Forgot ${id}.` }], structuredContent: { id, deleted: true } };
  } catch (err) {
    return toolError(err);
  }
}
