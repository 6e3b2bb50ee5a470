import { join } from "node:path";
import type { EngineGpu } from "./engine-protocol.js";

/**
 * Where `tandem gpu install` puts node-llama-cpp's prebuilt binary packages (a GPU build, or the CPU
 * build an --omit=optional install lacks, which the engine also installs there by itself): a folder
 * of tandem's data dir with its own node_modules, writable for a global install as for a root one and
 * out of reach of package.json `overrides`. The engine child resolves `@node-llama-cpp/*` there first.
 */
export function engineDir(dataDir: string): string {
  return join(dataDir, "engine");
}

export type GpuBackend = Exclude<EngineGpu, false | "auto">;

/**
 * The prebuilt binary packages node-llama-cpp loads a backend from on a platform (as its
 * getPrebuiltBinariesPackageDirectoryForBuildOptions looks for them), without versions; empty when
 * it publishes none (the backend would have to be built from source). CUDA comes in two packages:
 * the binaries and the CUDA libraries they need.
 */
export function binaryPackages(platform: NodeJS.Platform, arch: string, gpu: GpuBackend): string[] {
  const os = platform === "linux" ? "linux" : platform === "win32" ? "win" : platform === "darwin" ? "mac" : undefined;
  if (!os) return [];
  if (os === "mac") return gpu === "metal" && arch === "arm64" ? ["@node-llama-cpp/mac-arm64-metal"] : [];
  if (arch !== "x64" || gpu === "metal") return [];
  return gpu === "cuda"
    ? [`@node-llama-cpp/${os}-x64-cuda`, `@node-llama-cpp/${os}-x64-cuda-ext`]
    : [`@node-llama-cpp/${os}-x64-vulkan`];
}

/**
 * The prebuilt package node-llama-cpp's CPU build comes in on a platform (on Apple silicon the Metal
 * build, which is its only one), without a version; undefined when it publishes none. node-llama-cpp
 * lists it as an optional dependency, so `npm install --omit=optional` leaves it out: the engine then
 * installs it into `<dataDir>/engine` on first start.
 */
export function cpuBinaryPackage(platform: NodeJS.Platform, arch: string): string | undefined {
  const name: Partial<Record<string, string>> = {
    "darwin-arm64": "mac-arm64-metal",
    "darwin-x64": "mac-x64",
    "linux-x64": "linux-x64",
    "linux-arm64": "linux-arm64",
    "linux-arm": "linux-armv7l",
    "linux-riscv64": "linux-riscv64",
    "win32-x64": "win-x64",
    "win32-arm64": "win-arm64",
  };
  const found = name[`${platform}-${arch}`];
  return found ? `@node-llama-cpp/${found}` : undefined;
}
