import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import type { Command } from "commander";
import { keysCommand } from "../../src/cli/keys.js";
import { modelsCommand } from "../../src/cli/models.js";

/**
 * Every `tandem keys ...` and `tandem models ...` line the README shows (the command list, the
 * examples) names subcommands and options those commands have, so a user who copies one is not
 * told `unknown option`. The README once showed `keys set|list|rm <name> [--store]`, which `list`
 * and `rm` refuse (they cover the keychain and the store both).
 */
const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

const unused = () => {
  throw new Error("not run");
};
const io = {
  stdout: { write: unused },
  stderr: { write: unused },
  stdin: process.stdin,
  env: {},
  setExitCode: unused,
  exit: unused,
};
const GROUPS: Record<string, Command> = { keys: keysCommand(io), models: modelsCommand(io) };

interface Use {
  line: number;
  group: string;
  subcommand: string;
  options: string[];
}

/** The uses of the groups above in the README's code blocks: one per subcommand of each `a | b` alternative. */
function uses(markdown: string): Use[] {
  const found: Use[] = [];
  let inCode = false;
  markdown.split("\n").forEach((text, index) => {
    if (text.startsWith("```")) {
      inCode = !inCode;
      return;
    }
    if (!inCode || !text.startsWith("tandem ")) return;
    // The command list's description column starts after a run of spaces; an example's comment after `#`.
    const command = text.split(/ {2,}| #/)[0] ?? "";
    let group: string | undefined;
    for (const alternative of command.split(" | ")) {
      const words = alternative.trim().split(/\s+/);
      if (words[0] === "tandem") words.shift();
      if (words[0] !== undefined && words[0] in GROUPS) group = words.shift();
      if (group === undefined || words[0] === undefined) continue;
      const options = words.flatMap((w) => /--[a-z][a-z-]*/.exec(w)?.[0] ?? []);
      for (const subcommand of words[0].split("|")) found.push({ line: index + 1, group, subcommand, options });
    }
  });
  return found;
}

describe("README's tandem keys and tandem models lines", () => {
  const all = uses(README);

  it("are found, among them the command list's", () => {
    assert.ok(all.some((u) => u.group === "keys" && u.subcommand === "list"));
    assert.ok(all.some((u) => u.group === "models" && u.subcommand === "pull" && u.options.includes("--force")));
  });

  for (const use of all) {
    it(`README.md:${use.line}: ${use.group} ${use.subcommand} ${use.options.join(" ")}`.trimEnd(), () => {
      const command = GROUPS[use.group]?.commands.find(
        (c) => c.name() === use.subcommand || c.aliases().includes(use.subcommand),
      );
      assert.ok(command, `tandem ${use.group} has no subcommand '${use.subcommand}'`);
      for (const option of use.options) {
        assert.ok(
          command.options.some((o) => o.long === option),
          `tandem ${use.group} ${use.subcommand} has no option ${option}`,
        );
      }
    });
  }
});
