import { access, readdir } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { getLlamaGpuTypes, getModuleVersion } from "node-llama-cpp";
import { type InstallResult, installBinaryPackages, npmInstallArgs } from "./binary-install.js";
import { EngineProcess } from "./engine-process.js";
import type { EngineBackend } from "./engine-protocol.js";
import { binaryPackages, engineDir, type GpuBackend } from "./gpu-packages.js";

export { type InstallResult, npmInstallArgs };

/** What `tandem gpu` finds: the GPUs node-llama-cpp can use here, and the binary packages they take. */
export interface GpuReport {
  platform: NodeJS.Platform;
  arch: string;
  /** node-llama-cpp's version: binary packages must match it exactly. */
  nodeLlamaCpp: string;
  /** Backends whose drivers node-llama-cpp found (its getLlamaGpuTypes("supported")), best first. */
  found: GpuBackend[];
  /** The vendor tools on PATH, as hints (node-llama-cpp itself looks for the libraries). */
  tools: { nvidiaSmi: string | undefined; vulkaninfo: string | undefined };
  /** The backend `tandem gpu install` installs by default; undefined when none was found. */
  best: GpuBackend | undefined;
  /** The packages (name@version) the best backend needs; empty when none is published for this platform. */
  packages: string[];
  /** Where they go, and the ones already there. */
  engineDir: string;
  installed: string[];
  /** Why the engine runs on the CPU, when it does. */
  reason: string | undefined;
}

export async function detectGpu(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<GpuReport> {
  const [types, version, nvidiaSmi, vulkaninfo, installed] = await Promise.all([
    getLlamaGpuTypes("supported").catch(() => [false] as const),
    getModuleVersion(),
    onPath("nvidia-smi", env),
    onPath("vulkaninfo", env),
    installedPackages(dataDir),
  ]);
  const found = types.filter((t): t is GpuBackend => t !== false);
  const best = found[0];
  const packages = best ? binaryPackages(process.platform, process.arch, best).map((p) => `${p}@${version}`) : [];
  let reason: string | undefined;
  if (!best) {
    const hints = [nvidiaSmi ? "nvidia-smi is on PATH but the CUDA runtime libraries were not found" : undefined]
      .filter(Boolean)
      .join("; ");
    reason = `no GPU found: node-llama-cpp found no NVIDIA driver with the CUDA runtime (libcuda, libcudart, libcublas) and no Vulkan loader (libvulkan)${hints ? ` (${hints})` : ""}`;
  } else if (packages.length === 0 && best !== "metal") {
    reason = `node-llama-cpp publishes no prebuilt ${best} binary for ${process.platform}-${process.arch}`;
  }
  return {
    platform: process.platform,
    arch: process.arch,
    nodeLlamaCpp: version,
    found,
    tools: { nvidiaSmi, vulkaninfo },
    best,
    packages,
    engineDir: engineDir(dataDir),
    installed,
    reason,
  };
}

/** The packages installed in `<dataDir>/engine` (name@version). */
async function installedPackages(dataDir: string): Promise<string[]> {
  const scope = join(engineDir(dataDir), "node_modules", "@node-llama-cpp");
  const names = await readdir(scope).catch(() => [] as string[]);
  return names.map((n) => `@node-llama-cpp/${n}`);
}

async function onPath(command: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const exts = process.platform === "win32" ? [".exe", ".cmd", ""] : [""];
  for (const dir of (env.PATH ?? "").split(delimiter).filter(Boolean)) {
    for (const ext of exts) {
      const path = join(dir, command + ext);
      if (
        await access(path).then(
          () => true,
          () => false,
        )
      )
        return path;
    }
  }
  return undefined;
}

/**
 * Installs binary packages into `<dataDir>/engine` with npm (its registry settings apply:
 * npm_config_registry, .npmrc), streaming npm's progress lines.
 */
export async function installGpuPackages(
  dataDir: string,
  packages: string[],
  onLine: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<InstallResult> {
  return await installBinaryPackages(engineDir(dataDir), packages, onLine, { env });
}

/**
 * Starts an engine on a backend the way tandem will (same child, same lookup in `<dataDir>/engine`)
 * and says what it runs on: the proof that an installed build loads here.
 */
export async function probeBackend(dataDir: string, gpu: GpuBackend | "auto" | false): Promise<EngineBackend | undefined> {
  const engine = new EngineProcess({ gpu, binariesDir: engineDir(dataDir), onLog: () => {}, startTimeoutMs: 300_000 });
  try {
    await engine.call({ op: "ping" });
    return engine.state().backend;
  } finally {
    await engine.close();
  }
}
