import { Command, type CommanderError } from "commander";
import { ConfigError } from "../config/config-error.js";
import { type InstallResult, installBinaryPackages, npmInstallArgs } from "../providers/llamacpp/binary-install.js";
import { binaryPackages, cpuBinaryPackage, type GpuBackend } from "../providers/llamacpp/gpu-packages.js";
import { detectGpu, type GpuReport, probeBackend } from "../providers/llamacpp/gpu-setup.js";
import { authHeaders, clientKey, describeFetchError, errorAnswerText, serverUrl } from "./client.js";
import { type CommandIo, EXIT_FAILED, EXIT_USAGE, processIo } from "./command-io.js";
import { addDataDirOptions, type DataDirOptions, resolveDataDir } from "./data-dir-options.js";

const DATA_DIR_HELP =
  "tandem's data dir; GPU builds go in <dir>/engine (default: TANDEM_DATA_DIR, the config's dataDir, ~/.local/share/tandem)";

const BACKENDS: GpuBackend[] = ["cuda", "vulkan", "metal"];

/** `tandem gpu`, `tandem gpu install`, `tandem gpu status`: the local engine's GPU. */
export function gpuCommand(io: CommandIo = processIo()): Command {
  const group = new Command("gpu")
    .description("detect the GPU, install the matching llama.cpp build, show the backend the engine runs on")
    .exitOverride((err: CommanderError) => io.exit(err.exitCode === 0 ? 0 : EXIT_USAGE))
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });

  addDataDirOptions(
    group
      .command("detect", { isDefault: true })
      .description("what GPU node-llama-cpp finds here, and which prebuilt build fits it (the default)")
      .option("--json", "print JSON"),
    DATA_DIR_HELP,
  ).action(async (opts: DataDirOptions & { json?: boolean }) => {
    io.setExitCode(await detectCommand(io, opts));
  });

  addDataDirOptions(
    group
      .command("install")
      .description("install node-llama-cpp's prebuilt binaries for the GPU (from the npm registry) into <dataDir>/engine")
      .argument(
        "[backend]",
        "cuda, vulkan or metal (default: the best one detected); cpu: the CPU build, for an install made with --omit=optional",
      )
      .option("--dry-run", "print what would be installed, and where, without installing"),
    DATA_DIR_HELP,
  ).action(async (backend: string | undefined, opts: DataDirOptions & { dryRun?: boolean }) => {
    io.setExitCode(await installCommand(io, backend, opts));
  });

  group
    .command("status")
    .description("the backend (cpu, cuda, vulkan, metal), devices and memory of the running server's engine")
    .option("--url <url>", "server URL (TANDEM_URL; default http://127.0.0.1:1337)")
    .option("--key <key>", "client API key; prefer TANDEM_API_KEY (--key shows in ps)")
    .action(async (opts: { url?: string; key?: string }) => {
      io.setExitCode(await statusCommand(io, opts));
    });
  return group;
}

async function guarded(io: CommandIo, what: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    io.stderr.write(`tandem ${what}: ${err instanceof ConfigError ? "config error: " : ""}${(err as Error).message}\n`);
    return err instanceof ConfigError ? EXIT_USAGE : EXIT_FAILED;
  }
}

function describeReport(r: GpuReport): string[] {
  const out = [`platform: ${r.platform}-${r.arch}, node-llama-cpp ${r.nodeLlamaCpp}`];
  out.push(
    `tools: nvidia-smi ${r.tools.nvidiaSmi ? `at ${r.tools.nvidiaSmi}` : "not found"}, vulkaninfo ${r.tools.vulkaninfo ? `at ${r.tools.vulkaninfo}` : "not found"}`,
  );
  if (r.best) out.push(`GPU: ${r.found.join(", ")} (best: ${r.best})`);
  else out.push("GPU: none; the engine runs on the CPU");
  if (r.reason) out.push(`why: ${r.reason}`);
  if (r.packages.length) {
    const missing = r.packages.filter((p) => !r.installed.includes(p.slice(0, p.lastIndexOf("@"))));
    out.push(`build: ${r.packages.join(" ")}`);
    out.push(
      missing.length === 0 ? `installed in ${r.engineDir}` : `not installed: run \`tandem gpu install\` (into ${r.engineDir})`,
    );
  } else if (r.best === "metal") {
    out.push("build: Metal is part of node-llama-cpp's macOS build; nothing to install");
  }
  if (r.cpuBuild) {
    const where = {
      node_modules: "installed with tandem",
      engine: `installed in ${r.engineDir}`,
      missing:
        "not installed (tandem was installed with --omit=optional): the engine installs it on first start, or run `tandem gpu install cpu`",
    }[r.cpuBuild.where];
    out.push(`CPU build: ${r.cpuBuild.package}, ${where}`);
  }
  return out;
}

async function detectCommand(io: CommandIo, opts: DataDirOptions & { json?: boolean }): Promise<number> {
  return guarded(io, "gpu", async () => {
    const report = await detectGpu(await resolveDataDir(io, opts), io.env);
    io.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${describeReport(report).join("\n")}\n`);
    return 0;
  });
}

async function installCommand(
  io: CommandIo,
  backendArg: string | undefined,
  opts: DataDirOptions & { dryRun?: boolean },
): Promise<number> {
  if (backendArg !== undefined && backendArg !== "cpu" && !BACKENDS.includes(backendArg as GpuBackend)) {
    io.stderr.write(`tandem gpu install: unknown backend '${backendArg}' (cuda, vulkan, metal or cpu)\n`);
    return EXIT_USAGE;
  }
  if (backendArg === "cpu") return guarded(io, "gpu install", () => installCpuCommand(io, opts));
  return guarded(io, "gpu install", async () => {
    const dataDir = await resolveDataDir(io, opts);
    const report = await detectGpu(dataDir, io.env);
    const backend = (backendArg as GpuBackend | undefined) ?? report.best;
    if (!backend) {
      io.stderr.write(`tandem gpu install: ${report.reason}. Name a backend (cuda, vulkan) to install one anyway.\n`);
      return EXIT_FAILED;
    }
    if (backend === "metal" && process.platform === "darwin") {
      io.stdout.write("Metal is part of node-llama-cpp's macOS build: nothing to install.\n");
      return 0;
    }
    const packages = binaryPackages(process.platform, process.arch, backend).map((p) => `${p}@${report.nodeLlamaCpp}`);
    if (packages.length === 0) {
      io.stderr.write(
        `tandem gpu install: node-llama-cpp publishes no prebuilt ${backend} build for ${process.platform}-${process.arch}\n`,
      );
      return EXIT_FAILED;
    }
    const result = await installOrPlan(io, report, packages, opts.dryRun, " (hundreds of MB for CUDA)");
    if (result === undefined) return 0;
    if (!result.ok) {
      io.stderr.write(`tandem gpu install: npm failed (${result.detail}); the engine stays on its CPU build.\n`);
      return EXIT_FAILED;
    }
    io.stderr.write(`installed; starting the engine on ${backend} to check it loads...\n`);
    const probed = await probeBackend(dataDir, backend);
    if (probed?.gpu !== backend) {
      io.stderr.write(
        `tandem gpu install: the ${backend} build is installed but does not load here (${probed?.fallback ?? "unknown reason"}); the engine falls back to the CPU.\n`,
      );
      return EXIT_FAILED;
    }
    io.stdout.write(
      `ok: the engine runs on ${backend}${probed.devices.length ? ` (${probed.devices.join(", ")})` : ""}. Restart tandem serve to use it (gpu: auto picks it).\n`,
    );
    return 0;
  });
}

/**
 * Installs binary packages into the engine dir with npm, its progress lines on stderr; with
 * `dryRun`, prints the npm command instead and answers undefined. `note` follows the "installing" line.
 */
async function installOrPlan(
  io: CommandIo,
  report: GpuReport,
  packages: string[],
  dryRun: boolean | undefined,
  note = "",
): Promise<InstallResult | undefined> {
  if (dryRun) {
    io.stdout.write(
      `would install ${packages.join(" ")} into ${report.engineDir}:\n  npm ${npmInstallArgs(report.engineDir, packages).join(" ")}\n`,
    );
    return undefined;
  }
  io.stderr.write(`installing ${packages.join(" ")} into ${report.engineDir}${note}\n`);
  return await installBinaryPackages(report.engineDir, packages, (line) => io.stderr.write(`  ${line}\n`), { env: io.env });
}

/**
 * `tandem gpu install cpu`: node-llama-cpp's CPU build, which `npm install --omit=optional` leaves out
 * (the engine also installs it by itself on first start when it finds no binary).
 */
async function installCpuCommand(io: CommandIo, opts: DataDirOptions & { dryRun?: boolean }): Promise<number> {
  const dataDir = await resolveDataDir(io, opts);
  const report = await detectGpu(dataDir, io.env);
  const name = cpuBinaryPackage(process.platform, process.arch);
  if (!name) {
    io.stderr.write(`tandem gpu install: node-llama-cpp publishes no prebuilt build for ${process.platform}-${process.arch}\n`);
    return EXIT_FAILED;
  }
  const result = await installOrPlan(io, report, [`${name}@${report.nodeLlamaCpp}`], opts.dryRun);
  if (result === undefined) return 0;
  if (!result.ok) {
    io.stderr.write(
      `tandem gpu install: npm failed (${result.detail}); check the npm registry settings (npm_config_registry, .npmrc) and try again.\n`,
    );
    return EXIT_FAILED;
  }
  io.stderr.write("installed; starting the engine on the CPU to check it loads...\n");
  const probed = await probeBackend(dataDir, false);
  io.stdout.write(`ok: the engine runs on ${probed?.gpu ?? "the CPU"}.\n`);
  return 0;
}

interface StatusProvider {
  name: string;
  kind: string;
  engine?: {
    running: boolean;
    backend?: { gpu: string; requested: string | false; devices: string[]; fallback?: string; cpuMathCores: number };
    memory?: { ram: { total: number; free: number }; vram: { total: number; used: number; free: number }; rssBytes: number };
  };
}

async function statusCommand(io: CommandIo, opts: { url?: string; key?: string }): Promise<number> {
  const url = serverUrl(opts.url, io.env);
  const key = clientKey(opts.key, "gpu status", { env: io.env, stderr: io.stderr });
  let providers: StatusProvider[];
  try {
    const res = await fetch(`${url}/v1/status`, { headers: authHeaders(key) });
    if (!res.ok) {
      io.stderr.write(`tandem gpu status: ${await errorAnswerText(res)}\n`);
      return EXIT_FAILED;
    }
    providers = ((await res.json()) as { providers: StatusProvider[] }).providers;
  } catch (err) {
    io.stderr.write(`tandem gpu status: ${describeFetchError(url, err)}\n`);
    return EXIT_FAILED;
  }
  const engines = providers.filter((p) => p.engine);
  if (engines.length === 0) io.stdout.write("no local engine is configured\n");
  for (const p of engines) io.stdout.write(`${p.name}: ${describeEngine(p.engine ?? { running: false })}\n`);
  return 0;
}

/** One line for an engine's backend and memory (also `tandem status`'s). */
export function describeEngine(engine: NonNullable<StatusProvider["engine"]>): string {
  const b = engine.backend;
  if (!engine.running || !b) return "not started (starts on first use)";
  const devices = b.devices.length ? ` (${b.devices.join(", ")})` : "";
  const parts = [`backend ${b.gpu}${devices}`];
  const m = engine.memory;
  if (m) {
    parts.push(`RAM ${ratio(m.ram.total - m.ram.free, m.ram.total)} in use (engine ${gib(m.rssBytes)} GiB)`);
    if (m.vram.total > 0) parts.push(`VRAM ${ratio(m.vram.used, m.vram.total)} in use`);
  }
  if (b.fallback) parts.push(b.fallback);
  return parts.join(", ");
}

function gib(bytes: number): string {
  return (bytes / 1024 ** 3).toFixed(1);
}

function ratio(used: number, total: number): string {
  return `${gib(used)}/${gib(total)} GiB`;
}
