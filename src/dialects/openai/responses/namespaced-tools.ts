/** A function tool of a `namespace` tool, as the client named it. */
export interface NamespacedTool {
  namespace: string;
  name: string;
}

/**
 * The name a function tool of a `namespace` tool (OpenAI's NamespaceTool: the Codex CLI sends every
 * MCP server's tools as one, `mcp__<server>`) has on the canonical path, where tools have one flat
 * name: `<namespace>__<name>`, as Codex names MCP tools itself. A name OpenAI's function names may
 * not hold (`^[a-zA-Z0-9_-]{1,64}$`) has those characters replaced, a long one is cut, and either
 * then ends in a digest of the two names, so two tools stay two. The same function names a
 * namespaced `function_call` of the stored history, so a call and its tool agree.
 */
export function namespacedToolName(namespace: string, name: string): string {
  const raw = `${namespace}__${name}`;
  const clean = raw.replace(/[^a-zA-Z0-9_-]/g, "_");
  if (clean === raw && clean.length <= 64) return clean;
  const whole = `${namespace}\u0000${name}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < whole.length; i++) hash = Math.imul(hash ^ whole.charCodeAt(i), 0x01000193) >>> 0;
  return `${clean.slice(0, 55)}_${hash.toString(16).padStart(8, "0")}`;
}
