import { GatewayError, type HostedServer, type HostedToolFilter, MEMORY_TOOLS_LABEL } from "../../../core/index.js";

const LABEL = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * A request's `{type: "mcp"}` tools (OpenAI's Tool.Mcp) as the servers tandem's tool loop offers the
 * model: `server_label`, `server_url` (unset: a server configured in tandem under that label),
 * `headers` and `authorization` (sent as a bearer token), `allowed_tools` (names, or a filter by
 * name or `read_only`), `require_approval` (`always`, the default as at OpenAI, `never`, or
 * filters), `server_description`. A malformed one is OpenAI's 400 naming the field, and so is the
 * label of tandem's own memory tools (their calls would go to this server, or its to them). `echoed`
 * is what the Response repeats back: without headers and token, which are secrets. `params`: where
 * each server was given (`tools[i]`), by label, for what can be refused only once the route is
 * known (checkRouteServerLabels).
 */
export function parseMcpTools(tools: readonly Record<string, unknown>[] | null | undefined): {
  servers: HostedServer[];
  echoed: Record<string, unknown>[];
  params: Map<string, string>;
} {
  const servers: HostedServer[] = [];
  const echoed: Record<string, unknown>[] = [];
  const params = new Map<string, string>();
  (tools ?? []).forEach((raw, i) => {
    if (raw.type !== "mcp") return;
    const at = `tools[${i}]`;
    const label = raw.server_label;
    if (typeof label !== "string" || !LABEL.test(label)) {
      throw invalid(`${at}.server_label`, "expected a label of letters, digits, '_' or '-' (at most 64)");
    }
    if (params.has(label)) throw invalid(`${at}.server_label`, `the label '${label}' is used by two MCP tools`);
    if (label === MEMORY_TOOLS_LABEL) {
      throw invalid(
        `${at}.server_label`,
        `'${MEMORY_TOOLS_LABEL}' is reserved for tandem's own memory tools (a route's memory: on); give this MCP server another label`,
      );
    }
    params.set(label, at);
    if (raw.connector_id != null || raw.tunnel_id != null) {
      const field = raw.connector_id != null ? "connector_id" : "tunnel_id";
      throw invalid(
        `${at}.${field}`,
        `${field} is not supported by tandem; give a server_url, or configure the server in tandem under this label`,
      );
    }
    const server: HostedServer = { ref: { label }, approval: approval(raw.require_approval, `${at}.require_approval`) };
    if (raw.server_url != null) {
      if (typeof raw.server_url !== "string" || !/^https?:\/\//i.test(raw.server_url) || !URL.canParse(raw.server_url)) {
        throw invalid(`${at}.server_url`, "expected an http or https URL");
      }
      server.ref.url = raw.server_url;
    }
    const headers = stringRecord(raw.headers, `${at}.headers`);
    if (raw.authorization != null) {
      if (typeof raw.authorization !== "string") throw invalid(`${at}.authorization`, "expected a string");
      headers.Authorization = `Bearer ${raw.authorization}`;
    }
    if (Object.keys(headers).length > 0) server.ref.headers = headers;
    if (raw.allowed_tools != null) server.allowed = filter(raw.allowed_tools, `${at}.allowed_tools`, true);
    if (raw.server_description != null) {
      if (typeof raw.server_description !== "string") throw invalid(`${at}.server_description`, "expected a string");
      server.description = raw.server_description;
    }
    servers.push(server);
    echoed.push({
      type: "mcp",
      server_label: label,
      ...(server.ref.url !== undefined && { server_url: server.ref.url }),
      allowed_tools: raw.allowed_tools ?? null,
      headers: null,
      require_approval: raw.require_approval ?? "always",
      // Left out when not given: the spec's server_description is a string (not nullable).
      ...(server.description !== undefined && { server_description: server.description }),
    });
  });
  return { servers, echoed, params };
}

/**
 * Refuses a request's `mcp` tool labelled as a server whose tools the route already gives the model
 * (ModelEntry.tools: its `tools: ["mcp:<label>"]`, and tandem's memory tools): both would be offered
 * under the same names, the model could not tell them apart, and one would silently take the
 * other's calls. OpenAI's 400, naming the tool's `server_label`, before any turn.
 */
export function checkRouteServerLabels(
  params: ReadonlyMap<string, string>,
  route: { name: string; tools?: readonly string[] },
): void {
  for (const tool of route.tools ?? []) {
    if (!tool.startsWith("mcp:")) continue;
    const label = tool.slice("mcp:".length);
    const at = params.get(label);
    if (at === undefined) continue;
    throw invalid(
      `${at}.server_label`,
      `the route '${route.name}' already gives the model the tools of its MCP server '${label}' (tools: ${tool}); ` +
        "give this MCP tool another label, or leave it out to use the route's",
    );
  }
}

function approval(value: unknown, param: string): HostedServer["approval"] {
  if (value == null || value === "always") return "always";
  if (value === "never") return "never";
  if (typeof value !== "object" || Array.isArray(value))
    throw invalid(param, `expected "always", "never" or an object with always/never filters`);
  const { always, never } = value as { always?: unknown; never?: unknown };
  return {
    ...(always != null && { always: filter(always, `${param}.always`, false) }),
    ...(never != null && { never: filter(never, `${param}.never`, false) }),
  };
}

function filter(value: unknown, param: string, namesAllowed: boolean): HostedToolFilter {
  if (Array.isArray(value) && namesAllowed) {
    if (!value.every((name) => typeof name === "string")) throw invalid(param, "expected an array of tool names");
    return { names: value as string[] };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw invalid(param, "expected a filter object");
  const { tool_names, read_only } = value as { tool_names?: unknown; read_only?: unknown };
  const out: HostedToolFilter = {};
  if (tool_names != null) {
    if (!Array.isArray(tool_names) || !tool_names.every((name) => typeof name === "string")) {
      throw invalid(`${param}.tool_names`, "expected an array of tool names");
    }
    out.names = tool_names as string[];
  }
  if (read_only != null) {
    if (typeof read_only !== "boolean") throw invalid(`${param}.read_only`, "expected a boolean");
    out.readOnly = read_only;
  }
  return out;
}

function stringRecord(value: unknown, param: string): Record<string, string> {
  if (value == null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw invalid(param, "expected an object of strings");
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") throw invalid(`${param}.${key}`, "expected a string");
    out[key] = v;
  }
  return out;
}

function invalid(param: string, why: string): GatewayError {
  return new GatewayError("invalid_request", `Invalid value for '${param}': ${why}.`, { param });
}
