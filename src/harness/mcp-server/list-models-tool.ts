import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { Gateway, ModelEntry } from "../../core/index.js";
import { toolError } from "./tool-error.js";

/** Whether a target (`provider/model`) runs on this machine. */
export type TargetIsLocal = (target: string) => boolean;

export const LIST_MODELS_DESCRIPTION =
  "List the models tandem can answer with: targets (`provider/model`, one model on one provider) and routes " +
  "(a name such as `auto` or `private` that tries several targets in order, with failover and privacy rules). " +
  "Each says whether it runs on this machine (`local`): a local model keeps the prompt on the user's machine. " +
  "Pass a name to ask_model.";

const modelOutput = z.object({
  name: z.string().describe("What to pass to ask_model as `model`."),
  kind: z.enum(["target", "route"]),
  local: z.boolean().optional().describe("Runs on this machine (a route: every one of its targets does)."),
  tiers: z.array(z.array(z.string())).optional().describe("A route's targets, tier by tier, in the order tried."),
  context_window: z.number().optional().describe("The model's context window in tokens, where known."),
});

export const listModelsOutput = { models: z.array(modelOutput) };

type ModelOutput = z.infer<typeof modelOutput>;

/** The names a client can give ask_model, from the gateway's own list (GET /v1/models lists the same). */
export async function listModels(gateway: Gateway, isLocal: TargetIsLocal | undefined): Promise<CallToolResult> {
  let entries: ModelEntry[];
  try {
    entries = await gateway.models();
  } catch (err) {
    return toolError(err);
  }
  const models = entries.map((entry) => describe(entry, isLocal));
  const lines = models.map((m) => {
    const where = m.local === undefined ? "" : m.local ? ", local" : ", cloud";
    const tiers = m.tiers ? `: ${m.tiers.map((tier) => tier.join(" | ")).join(" -> ")}` : "";
    return `${m.name} (${m.kind}${where})${tiers}`;
  });
  return {
    content: [{ type: "text", text: lines.length > 0 ? lines.join("\n") : "tandem has no models configured." }],
    structuredContent: { models },
  };
}

function describe(entry: ModelEntry, isLocal: TargetIsLocal | undefined): ModelOutput {
  const out: ModelOutput = { name: entry.name, kind: entry.kind };
  if (isLocal !== undefined) {
    const targets = entry.kind === "target" ? [entry.name] : (entry.tiers ?? []).flat();
    if (targets.length > 0) out.local = targets.every(isLocal);
  }
  if (entry.tiers !== undefined) out.tiers = entry.tiers;
  if (entry.contextWindow !== undefined) out.context_window = entry.contextWindow;
  return out;
}
