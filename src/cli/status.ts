import { clientKey, describeFetchError, errorAnswerText, fetchWithKey, serverUrl } from "./client.js";
import { describeEngine } from "./gpu.js";

interface StatusBody {
  version: string;
  uptimeSeconds: number;
  providers: {
    name: string;
    kind: string;
    available: boolean;
    reason?: string;
    probe: { healthy: boolean; ms: number; error?: { code: string; message: string } } | null;
    engine?: {
      running: boolean;
      pid?: number;
      engine?: string;
      restarts: number;
      lastExit?: string;
      backend?: { gpu: string; requested: string | false; devices: string[]; fallback?: string; cpuMathCores: number };
      memory?: { ram: { total: number; free: number }; vram: { total: number; used: number; free: number }; rssBytes: number };
      loading?: { path: string; progress?: number; since: string };
    };
    loaded?: {
      name: string;
      quantization?: string;
      contextSize: number;
      modelBytes: number;
      ramBytes?: number;
      vramBytes?: number;
      expiresAt?: string;
      unloading?: boolean;
      load: { active: number; slots: number; queued: number };
    }[];
  }[];
  network?: { offline: boolean; since?: string };
  targets: {
    target: string;
    health: string;
    breaker: string;
    requests: number;
    errorRate: number;
    ttftMs?: number;
    lastError?: { code: string; message: string };
  }[];
  routes: { name: string; tiers: string[][]; tools?: string[]; memory?: unknown }[];
  mcp?: {
    servers: {
      label: string;
      transport: string;
      connected: boolean;
      tools?: number;
      lastError?: { message: string; at: string };
      sandbox?: SandboxStatus;
    }[];
    requestConnections: number;
  };
}

/** `tandem status`: what the running server's providers, targets and routes are doing. */
export async function status(options: { url?: string; key?: string; json?: boolean }): Promise<number> {
  const url = serverUrl(options.url);
  let body: StatusBody;
  try {
    const key = clientKey(options.key, "status", { asks: true });
    const { res } = await fetchWithKey((headers) => fetch(`${url}/v1/status`, { headers }), key, url);
    if (!res.ok) {
      process.stderr.write(`tandem status: ${await errorAnswerText(res)}\n`);
      return 1;
    }
    body = (await res.json()) as StatusBody;
  } catch (err) {
    process.stderr.write(`tandem status: ${describeFetchError(url, err)}\n`);
    return 1;
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return 0;
  }
  const out: string[] = [`tandem ${body.version} at ${url}, up ${body.uptimeSeconds} s`];
  out.push("", "providers:");
  if (body.providers.length === 0) out.push("  (none configured)");
  for (const p of body.providers) {
    const probe = p.probe
      ? p.probe.healthy
        ? `  probe ok (${p.probe.ms} ms)`
        : `  probe failed: ${p.probe.error?.message ?? p.probe.error?.code ?? "?"}`
      : "";
    out.push(`  ${p.name.padEnd(16)} ${p.kind.padEnd(10)} ${p.available ? "available" : `unavailable: ${p.reason}`}${probe}`);
    if (p.engine) {
      const e = p.engine;
      const state = e.running ? `running (pid ${e.pid}, ${e.engine ?? "llama.cpp"})` : "not started (starts on first use)";
      const restarts = e.restarts > 0 ? `, ${e.restarts} restart${e.restarts === 1 ? "" : "s"}, last: ${e.lastExit}` : "";
      out.push(`    engine: ${state}${restarts}`);
      if (e.running && e.backend) out.push(`    ${describeEngine(e)}`);
      if (e.loading) {
        const done = e.loading.progress === undefined ? "" : ` ${Math.floor(e.loading.progress * 100)}%,`;
        out.push(`    loading: ${e.loading.path}${done} since ${e.loading.since}`);
      }
      for (const m of p.loaded ?? []) {
        const until = m.unloading ? "unloading once its requests are done" : m.expiresAt ? `until ${m.expiresAt}` : "kept loaded";
        out.push(
          `    loaded: ${m.name} ${m.quantization ?? ""} ${describeFootprint(m)}, context ${m.contextSize}, ` +
            `${m.load.active}/${m.load.slots} busy, ${m.load.queued} waiting, ${until}`,
        );
      }
    }
  }
  if (body.network?.offline) out.push("", `network: down since ${body.network.since} (routes serve locally)`);
  out.push("", "targets:");
  if (body.targets.length === 0) out.push("  (none)");
  for (const t of body.targets) {
    const ttft = t.ttftMs === undefined ? "-" : `${Math.round(t.ttftMs)} ms`;
    const last = t.lastError ? `  last error: ${t.lastError.code}: ${t.lastError.message}` : "";
    out.push(
      `  ${t.target.padEnd(36)} ${t.health.padEnd(11)} breaker ${t.breaker.padEnd(9)} reqs ${String(t.requests).padStart(5)}  err ${(t.errorRate * 100).toFixed(0).padStart(3)}%  ttft ${ttft}${last}`,
    );
  }
  out.push("", "routes:");
  if (body.routes.length === 0) out.push("  (none)");
  for (const r of body.routes) {
    const tools = r.tools && r.tools.length > 0 ? `  tools ${r.tools.join(", ")}` : "";
    const memory = r.memory !== undefined ? "  memory on" : "";
    out.push(`  ${r.name.padEnd(16)} ${r.tiers.map((t) => t.join(" | ")).join(" -> ")}${tools}${memory}`);
  }
  if (body.mcp && (body.mcp.servers.length > 0 || body.mcp.requestConnections > 0)) {
    out.push("", "mcp servers:");
    for (const m of body.mcp.servers) {
      if (m.sandbox?.state === "failed") {
        // Not started at all (never unconfined instead): the reason says what to install or set.
        out.push(`  ${m.label.padEnd(16)} ${m.transport.padEnd(6)} not started: sandbox failed: ${m.sandbox.reason ?? "?"}`);
        continue;
      }
      const state = m.connected ? `connected${m.tools === undefined ? "" : `, ${m.tools} tools`}` : "not connected";
      const last = m.lastError ? `  last error (${m.lastError.at}): ${m.lastError.message}` : "";
      out.push(`  ${m.label.padEnd(16)} ${m.transport.padEnd(6)} ${state}${describeSandbox(m.sandbox)}${last}`);
    }
    if (body.mcp.requestConnections > 0) out.push(`  (and ${body.mcp.requestConnections} named by requests' server_url)`);
  }
  process.stdout.write(`${out.join("\n")}\n`);
  return 0;
}

/** A stdio server's sandbox as /v1/status gives it (older servers: without `syscallFilter`). */
type SandboxStatus = {
  state: string;
  network?: boolean;
  memoryMiB?: number;
  maxProcesses?: number;
  noProcessLimit?: string;
  syscallFilter?: boolean;
  noSyscallFilter?: string;
  reason?: string;
};

/** A stdio server's sandbox, after its state (nothing for a remote server). */
function describeSandbox(sandbox: SandboxStatus | undefined): string {
  if (sandbox === undefined) return "";
  if (sandbox.state === "off") return ", unconfined (no sandbox)";
  if (sandbox.state === "checking") return ", sandbox being checked";
  const memory = sandbox.memoryMiB === undefined ? "" : `, ${sandbox.memoryMiB} MiB of memory`;
  const processes =
    sandbox.maxProcesses !== undefined
      ? `, at most ${sandbox.maxProcesses} processes`
      : sandbox.noProcessLimit !== undefined
        ? `, no process limit: ${sandbox.noProcessLimit}`
        : "";
  const filter =
    sandbox.syscallFilter === false ? `, no syscall filter${sandbox.noSyscallFilter ? `: ${sandbox.noSyscallFilter}` : ""}` : "";
  return `, sandboxed (${sandbox.network === true ? "with" : "no"} network${memory}${processes}${filter})`;
}

/** Memory a loaded model holds: weights and context, and the part in VRAM (older servers: weights only). */
function describeFootprint(m: { modelBytes: number; ramBytes?: number; vramBytes?: number }): string {
  const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
  if (m.ramBytes === undefined) return mib(m.modelBytes);
  const vram = m.vramBytes ?? 0;
  return vram > 0 ? `${mib(m.ramBytes + vram)} (${mib(vram)} in VRAM)` : `${mib(m.ramBytes)} in RAM`;
}
