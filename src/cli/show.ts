import { failureText, OllamaApi } from "./ollama-client.js";

interface ShowBody {
  modelfile: string;
  parameters: string;
  template: string;
  system?: string;
  license?: string;
  details: { parent_model: string; format: string; family: string; quantization_level: string; parameter_size: string };
  model_info: Record<string, unknown>;
  capabilities?: string[];
}

/** `tandem show MODEL`: what /api/show says of a model (details, parameters, system prompt, template), or its JSON. */
export async function show(model: string, options: { url?: string; key?: string; json?: boolean }): Promise<number> {
  const api = new OllamaApi(options, "show");
  let body: ShowBody;
  try {
    body = await api.post<ShowBody>("/api/show", { model });
  } catch (err) {
    process.stderr.write(`tandem show: ${failureText(err)}\n`);
    return 1;
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(renderShow(model, body));
  return 0;
}

export function renderShow(model: string, body: ShowBody): string {
  const out: string[] = [`  Model ${model}`];
  const context = Object.entries(body.model_info ?? {}).find(([key]) => key.endsWith(".context_length"))?.[1];
  const rows: [string, unknown][] = [
    ["architecture", body.details.family],
    ["format", body.details.format],
    ["parameters", body.details.parameter_size],
    ["context length", context],
    ["quantization", body.details.quantization_level],
    ["from", body.details.parent_model],
  ];
  for (const [label, value] of rows) {
    if (value !== undefined && value !== "") out.push(`    ${label.padEnd(20)}${String(value)}`);
  }
  if (body.capabilities?.length) out.push("", "  Capabilities", ...body.capabilities.map((c) => `    ${c}`));
  if (body.parameters) out.push("", "  Parameters", ...body.parameters.split("\n").map((l) => `    ${l}`));
  if (body.system) out.push("", "  System", ...body.system.split("\n").map((l) => `    ${l}`));
  if (body.template) out.push("", "  Template", ...body.template.split("\n").map((l) => `    ${l}`));
  if (body.license) out.push("", "  License", ...body.license.split("\n").map((l) => `    ${l}`));
  return `${out.join("\n")}\n`;
}
