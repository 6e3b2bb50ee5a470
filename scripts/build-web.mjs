/**
 * Bundles the web console (web/) into dist/web with esbuild: one hashed script, one hashed
 * stylesheet, a hashed icon and index.html naming them. Nothing is fetched from elsewhere at run
 * time (no CDN): preact and uPlot are inside the script. Run by `npm run build` after tsc; tests
 * call buildConsole() to bundle into a directory of their own.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const WEB = join(ROOT, "web");
/** Where the server looks for the bundle first (next to dist/server/). */
export const DEFAULT_OUT_DIR = join(ROOT, "dist", "web");
/** The URL prefix the server serves the bundle's files under. */
const PREFIX = "/console/";

/**
 * Bundles the console into `outDir` (emptied first) and returns the files written with their sizes.
 * @param {{ outDir?: string, minify?: boolean }} [options]
 * @returns {Promise<{ outDir: string, files: { name: string, bytes: number }[] }>}
 */
export async function buildConsole({ outDir = DEFAULT_OUT_DIR, minify = true } = {}) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [join(WEB, "src", "main.tsx")],
    outdir: outDir,
    entryNames: "[name]-[hash]",
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022", "chrome111", "firefox111", "safari16.4"],
    jsx: "automatic",
    jsxImportSource: "preact",
    minify,
    legalComments: "none",
    metafile: true,
    logLevel: "silent",
    define: { "process.env.NODE_ENV": '"production"' },
  });
  const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
  const script = outputs.find((name) => name.endsWith(".js"));
  const style = outputs.find((name) => name.endsWith(".css"));
  if (!script || !style) throw new Error(`the console bundle lacks its script or stylesheet: ${outputs.join(", ")}`);
  const icon = hashedCopy(join(WEB, "icon.svg"), outDir);
  // No inline script or style: the page's CSP allows only files from the server itself.
  const page = [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    "<title>tandem</title>",
    `<link rel="icon" type="image/svg+xml" href="${PREFIX}${icon}">`,
    `<link rel="stylesheet" href="${PREFIX}${style}">`,
    `<script type="module" src="${PREFIX}${script}"></script>`,
    "</head>",
    '<body><div id="app"><noscript>The tandem console needs JavaScript.</noscript></div></body>',
    "</html>",
    "",
  ].join("\n");
  writeFileSync(join(outDir, "index.html"), page);
  const files = [script, style, icon, "index.html"].map((name) => ({ name, bytes: statSync(join(outDir, name)).size }));
  return { outDir, files };
}

/** Copies a file into `outDir` as `<name>-<hash>.<ext>` and returns the new name. */
function hashedCopy(file, outDir) {
  const body = readFileSync(file);
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 8).toUpperCase();
  const name = basename(file).replace(/(\.[^.]+)$/, `-${hash}$1`);
  writeFileSync(join(outDir, name), body);
  return name;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { outDir, files } = await buildConsole();
  const total = files.reduce((sum, f) => sum + f.bytes, 0);
  const { gzipSync } = await import("node:zlib");
  const gzipped = files.reduce((sum, f) => sum + gzipSync(readFileSync(join(outDir, f.name))).byteLength, 0);
  console.log(
    `web console: ${relative(ROOT, outDir)}/ ${files.map((f) => `${f.name} ${(f.bytes / 1024).toFixed(1)} KB`).join(", ")}; ` +
      `${(total / 1024).toFixed(1)} KB in all, ${(gzipped / 1024).toFixed(1)} KB gzipped`,
  );
}
