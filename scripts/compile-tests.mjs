/**
 * Compiles the test suite to plain JavaScript so `npm test` runs it with no module loader hooks:
 * on Node 20 a loader (tsx) runs its hooks on a thread of their own, a round trip per module, which
 * costs a test file that starts tandem (about 500 modules) over a second before its first test.
 *
 * test/ is mirrored to .js-test/ (the same depth, so paths built from `import.meta.dirname` still
 * reach the same places): every file is copied, and each TypeScript file also gets its JavaScript
 * beside it (esbuild's transform, as tsx does, with the project's tsconfig). Imports of src/ are
 * pointed at the build in dist/ (what `npm start` runs); any other TypeScript a test imports (web/,
 * the parts of src/ the build leaves out) is compiled into a mirror of its own folder (.js-web/,
 * .js-src/). Files the tests spawn with tsx are there too, as the TypeScript they are.
 *
 *   node scripts/compile-tests.mjs        (after `npm run build`; prints the mirror's folder)
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const MIRROR_PREFIX = ".js-";
const DIST = join(ROOT, "dist");
const compilerOptions = JSON.parse(readFileSync(join(ROOT, "tsconfig.json"), "utf8")).compilerOptions;
/** Static imports and re-exports (`from "x"`, `import "x"`) and dynamic imports of a literal. */
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])([^"'\n]+)\2/g;

/** Where a file of the repository is mirrored: `<root>/.js-<top folder>/<rest>`. */
function mirrorOf(file) {
  const [top, ...rest] = relative(ROOT, file).split(sep);
  return join(ROOT, `${MIRROR_PREFIX}${top}`, ...rest);
}

const compiled = new Set();

/** Compiles one TypeScript file to its mirror's `.js`, and whatever TypeScript outside dist/ it imports. */
function compile(source) {
  if (compiled.has(source)) return;
  compiled.add(source);
  const { code } = transformSync(readFileSync(source, "utf8"), {
    loader: "ts",
    format: "esm",
    target: "node20",
    sourcefile: source,
    tsconfigRaw: { compilerOptions },
  });
  const out = mirrorOf(source).replace(/\.ts$/, ".js");
  const rewritten = code.replace(SPECIFIER, (whole, head, quote, spec) => {
    const target = pointAt(source, out, spec);
    return target === spec ? whole : `${head}${quote}${target}${quote}`;
  });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, rewritten);
}

/** The specifier the compiled file at `out` uses for `spec`, which its source at `source` imports. */
function pointAt(source, out, spec) {
  if (!spec.startsWith("./") && !spec.startsWith("../")) return spec;
  const target = resolve(dirname(source), spec);
  if (existsSync(target) || !/\.js$/.test(target)) return spec; // JavaScript or data, found as it is from the mirror's same depth.
  const ts = target.replace(/\.js$/, ".ts");
  if (!existsSync(ts)) return spec; // Not ours to fix: the import fails as it would have.
  const fromSrc = relative(join(ROOT, "src"), target);
  const built = join(DIST, fromSrc);
  let pointed;
  if (!fromSrc.startsWith("..") && existsSync(built)) pointed = built;
  else {
    compile(ts);
    pointed = mirrorOf(target);
  }
  const rel = relative(dirname(out), pointed).split(sep).join("/");
  return rel.startsWith(".") ? rel : `./${rel}`;
}

/** Copies test/ into its mirror, compiling each TypeScript file beside its copy. */
function mirrorTests(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      mirrorTests(path);
      continue;
    }
    const copy = mirrorOf(path);
    mkdirSync(dirname(copy), { recursive: true });
    copyFileSync(path, copy);
    if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) compile(path);
  }
}

if (!existsSync(join(DIST, "server", "app.js"))) {
  process.stderr.write("compile-tests: dist/ has no build; run `npm run build` first\n");
  process.exit(1);
}
for (const entry of readdirSync(ROOT))
  if (entry.startsWith(MIRROR_PREFIX)) rmSync(join(ROOT, entry), { recursive: true, force: true });
mirrorTests(join(ROOT, "test"));
process.stdout.write(`${MIRROR_PREFIX}test\n`);
