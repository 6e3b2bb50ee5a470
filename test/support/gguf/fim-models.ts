/**
 * The scripted models of the fill-in-the-middle and raw-prompt tests: bigram machines whose answer
 * shows which prompt the engine evaluated. `coder` has Qwen2.5-Coder's FIM tokens and writes MIDDLE
 * only after the middle token; both continue STORY_END with STORY only when it is the prompt's end,
 * and answer OTHER after anything else (a chat template's "assistant\n" too).
 */
import { join } from "node:path";
import { EOS, FIM, type TokenRef, writeBigramModel } from "./scripted-model.js";

/** What the coder writes between the prefix and the suffix (after the middle token). */
export const MIDDLE = ["return", " a + b"];
/** The raw prompt's last piece, and what the models continue it with. */
export const STORY_END = "Once upon a time";
export const STORY = [" there", " was", " a fox."];
/** The answer to any other prompt ending. */
export const OTHER = "Templated.";
/** A fill-in-the-middle request's prefix and suffix. */
export const PREFIX = "def add(a, b):\n    ";
export const SUFFIX = "\n\nprint(add(1, 2))\n";

/** Writes `coder.gguf` (with FIM tokens) and `plain.gguf` (without) into `dir`. */
export async function writeFimModels(dir: string): Promise<{ coder: string; plain: string }> {
  const chain = (pieces: readonly string[]) => pieces.map((from, i) => ({ from, to: [pieces[i + 1] ?? EOS] as TokenRef[] }));
  const transitions = [{ from: STORY_END, to: [STORY[0] as string] }, ...chain(STORY), { from: OTHER, to: [EOS] }];
  const machine = { start: [OTHER], extraPieces: [STORY_END], transitions };
  const coder = join(dir, "coder.gguf");
  const plain = join(dir, "plain.gguf");
  await writeBigramModel(
    coder,
    { ...machine, transitions: [{ from: FIM.middle, to: [MIDDLE[0] as string] }, ...chain(MIDDLE), ...transitions] },
    { fimTokens: true },
  );
  await writeBigramModel(plain, machine);
  return { coder, plain };
}
