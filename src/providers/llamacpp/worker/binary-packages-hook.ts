import { readdir } from "node:fs/promises";
import { register } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * A resolve hook, registered in the engine child only, that makes node-llama-cpp find its prebuilt
 * binary packages (`@node-llama-cpp/linux-x64-cuda`, ...) in `<binariesDir>/node_modules` before its
 * own. node-llama-cpp looks for them with a bare `import()` from its own folder and has no option for
 * another one; `tandem gpu install` puts them in tandem's data dir, where a global install can write
 * and package.json `overrides` (which stand in for the GPU builds with an empty package) do not
 * reach. Only the packages installed there are redirected; everything else resolves as before.
 * The hook is a data: URL so it needs no file of its own beside the compiled code.
 */
const HOOK = `
let parentURL;
let names = new Set();
export function initialize(data) {
  parentURL = data.parentURL;
  names = new Set(data.names);
}
export async function resolve(specifier, context, next) {
  if (names.has(specifier)) return next(specifier, { ...context, parentURL });
  return next(specifier, context);
}
`;

/** Registers the hook when `<binariesDir>/node_modules/@node-llama-cpp` holds packages; returns their names. */
export async function useBinaryPackagesFrom(binariesDir: string | undefined): Promise<string[]> {
  if (!binariesDir) return [];
  const scope = join(binariesDir, "node_modules", "@node-llama-cpp");
  const names = await readdir(scope).then(
    (entries) => entries.map((e) => `@node-llama-cpp/${e}`),
    () => [] as string[],
  );
  if (names.length === 0) return [];
  register(`data:text/javascript,${encodeURIComponent(HOOK)}`, {
    data: { parentURL: pathToFileURL(join(binariesDir, "package.json")).href, names },
  });
  return names;
}
