/**
 * Token ids as OpenAI's embedding and legacy completions models read them (cl100k_base, the
 * encoding of text-embedding-3-*, ada-002 and gpt-3.5-turbo-instruct; what tiktoken gives a client
 * such as LangChain's OpenAIEmbeddings, which sends its inputs as token ids), decoded back to their
 * text so that any target reads what they say. Loaded on first use, so servers that never see token
 * ids never pay for the tables.
 */
let encoding: Promise<{ decode: (ids: number[]) => string; size: number }> | undefined;

function load() {
  encoding ??= import("gpt-tokenizer/encoding/cl100k_base").then(({ decode, vocabularySize }) => ({
    decode,
    size: vocabularySize,
  }));
  return encoding;
}

/** The text of cl100k_base token ids; undefined when one of them is not a token of that encoding. */
export async function decodeCl100kTokens(ids: readonly number[]): Promise<string | undefined> {
  const { decode, size } = await load();
  if (!ids.every((id) => Number.isInteger(id) && id >= 0 && id < size)) return undefined;
  try {
    return decode([...ids]);
  } catch {
    return undefined;
  }
}
