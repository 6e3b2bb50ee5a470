import { access, readdir, readFile } from "node:fs/promises";
import { basename, delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { EngineProcess } from "./engine-process.js";
import type { EngineBackend } from "./engine-protocol.js";
import { binaryPackages, cpuBinaryPackage, engineDir, type GpuBackend } from "./gpu-packages.js";

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
  /**
   * node-llama-cpp's CPU build (name@version) and where it is: beside node-llama-cpp, in the engine
   * dir, or missing (an install made with --omit=optional: the engine installs it on first start).
   */
  cpuBuild: { package: string; where: "node_modules" | "engine" | "missing" } | undefined;
}

export async function detectGpu(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<GpuReport> {
  // Loaded here, not at the top: node-llama-cpp is a large module graph (about 1.4 s to load), and
  // the CLI imports this file for every command, `serve` included, that never asks for a GPU report.
  const { getLlamaGpuTypes, getModuleVersion } = await import("node-llama-cpp");
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
  const cpu = cpuBinaryPackage(process.platform, process.arch);
  const cpuBuild = cpu
    ? {
        package: `${cpu}@${version}`,
        where: installed.includes(cpu)
          ? ("engine" as const)
          : (await besideNodeLlamaCpp(cpu, version))
            ? ("node_modules" as const)
            : ("missing" as const),
      }
    : undefined;
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
    cpuBuild,
  };
}

/**
 * Whether a binary package of this version is where node-llama-cpp's own `import()` finds it: a
 * node_modules folder at or above node-llama-cpp's (the package exports no package.json to resolve).
 */
async function besideNodeLlamaCpp(name: string, version: string): Promise<boolean> {
  // Node's lookup: every folder from node-llama-cpp's code up, but not node_modules folders themselves.
  let dir = dirname(fileURLToPath(import.meta.resolve("node-llama-cpp")));
  for (;;) {
    if (basename(dir) !== "node_modules") {
      const manifest = join(dir, "node_modules", ...name.split("/"), "package.json");
      const found = await readFile(manifest, "utf8").then(
        (text) => (JSON.parse(text) as { version?: string }).version === version,
        () => undefined,
      );
      if (found !== undefined) return found;
    }
    const parent = dirname(dir);
    if (parent === dir) return false;
    dir = parent;
  }
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
