import type { Gateway } from "../../core/index.js";

/**
 * Whether a request that forces a tool call without giving any tools (`tool_choice: "required"`,
 * Anthropic's `{type: "any"}`) names a route that runs tools of its own (ModelEntry.tools: the `mcp:`
 * servers its tool loop offers the model), which can answer that choice. Each dialect refuses such a
 * choice in its API's words otherwise. Only such a request looks its model up; an unknown model is
 * not one (its 404 comes where every request's does).
 */
export async function routeToolsAnswerChoice(gateway: Gateway, body: unknown): Promise<boolean> {
  if (typeof body !== "object" || body === null) return false;
  const { tool_choice: choice, tools, model } = body as Record<string, unknown>;
  const forced = choice === "required" || (typeof choice === "object" && (choice as { type?: unknown } | null)?.type === "any");
  if (!forced || (Array.isArray(tools) && tools.length > 0) || typeof model !== "string") return false;
  try {
    return ((await gateway.model(model)).tools?.length ?? 0) > 0;
  } catch {
    return false;
  }
}
