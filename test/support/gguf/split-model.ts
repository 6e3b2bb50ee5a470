import { join } from "node:path";
import { type BigramMachine, buildBigramModel, EOS, splitScript, type TokenRef } from "./scripted-model.js";
import { gguf, writeGgufFile } from "./writer.js";

/**
 * Writes a chat model (as writeChatModel) split the way llama.cpp's gguf-split does:
 * `<stem>-00001-of-0000N.gguf` holds all metadata and the first share of the tensors, each other
 * part only the split keys and its tensors; every part says `split.no`, `split.count` and
 * `split.tensors.count`. llama.cpp loads them all given the first. Returns the parts' paths in order.
 */
export async function writeSplitChatModel(
  dir: string,
  stem: string,
  parts: number,
  options: { answer?: string } = {},
): Promise<string[]> {
  const pieces = splitScript(options.answer ?? "Hello from tandem.");
  const transitions: Array<{ from: TokenRef; to: TokenRef[] }> = pieces.map((p, i) => ({
    from: p,
    to: [i + 1 < pieces.length ? (pieces[i + 1] as string) : EOS],
  }));
  const machine: BigramMachine = { start: [pieces[0] as string], transitions };
  const built = buildBigramModel(machine, {});
  const count = built.tensors.length;
  if (parts < 2 || parts > count) throw new Error(`split model: ${parts} parts for ${count} tensors`);
  const per = Math.ceil(count / parts);
  const paths: string[] = [];
  for (let i = 0; i < parts; i++) {
    const splitKeys: [string, ReturnType<typeof gguf.u16>][] = [
      ["split.no", gguf.u16(i)],
      ["split.count", gguf.u16(parts)],
      ["split.tensors.count", gguf.i32(count)],
    ];
    const path = join(dir, `${stem}-${String(i + 1).padStart(5, "0")}-of-${String(parts).padStart(5, "0")}.gguf`);
    await writeGgufFile(path, {
      metadata: i === 0 ? [...built.metadata, ...splitKeys] : splitKeys,
      tensors: built.tensors.slice(i * per, (i + 1) * per),
    });
    paths.push(path);
  }
  return paths;
}
