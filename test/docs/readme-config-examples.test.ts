import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { loadConfig } from "../../src/config/index.js";

/**
 * Every YAML block of the README must load with tandem's own config loader, so the examples users
 * copy cannot drift from the schema. A block that shows only a part of a config (a route naming
 * providers defined elsewhere) is loaded over the README's full Configuration example, as a user
 * would add it to their file.
 */
const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

interface Block {
  line: number;
  text: string;
}

function yamlBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== "```yaml") continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]?.trim() !== "```") end++;
    blocks.push({ line: start + 1, text: lines.slice(start, end).join("\n") });
    i = end;
  }
  return blocks;
}

type Mapping = Record<string, unknown>;
const isMapping = (v: unknown): v is Mapping => typeof v === "object" && v !== null && !Array.isArray(v);

/** `over` laid on `base`: mappings merge key by key, anything else replaces. */
function merge(base: unknown, over: unknown): unknown {
  if (!isMapping(base) || !isMapping(over)) return over;
  const out: Mapping = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = merge(base[key], value);
  return out;
}

const dir = mkdtempSync(join(tmpdir(), "tandem-readme-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));
// No TANDEM_* variables: the blocks alone decide.
const env: NodeJS.ProcessEnv = { HOME: dir, XDG_CONFIG_HOME: join(dir, "cfg"), XDG_DATA_HOME: join(dir, "data") };

async function load(name: string, config: unknown): Promise<void> {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config));
  await loadConfig({ configPath: file, env, cwd: dir, skipOllamaProbe: true });
}

const blocks = yamlBlocks(README);
const full = blocks.find((b) => /^server:/m.test(b.text) && /^routes:/m.test(b.text) && /^providers:/m.test(b.text));

describe("README's YAML config examples", () => {
  it("has YAML blocks, among them the full Configuration example", () => {
    assert.ok(blocks.length >= 4, `found ${blocks.length} YAML blocks`);
    assert.ok(full, "no YAML block with server, providers and routes");
  });

  for (const block of blocks) {
    it(`the block at README.md:${block.line} loads`, async () => {
      const parsed: unknown = parseYaml(block.text);
      assert.ok(isMapping(parsed), "expected a mapping");
      const config = block === full ? parsed : merge(parseYaml(full?.text ?? "{}"), parsed);
      await load(`block-${block.line}`, config);
    });
  }
});
