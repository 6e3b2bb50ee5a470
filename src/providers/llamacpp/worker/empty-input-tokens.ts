import { type LlamaModel, LlamaVocabularyType, type Token } from "node-llama-cpp";

/**
 * The tokens an empty text is embedded as: those the model's tokenizer puts around any text (its
 * beginning-of-text token; a BERT model's [CLS] and [SEP]). Ollama's runner tokenizes an input with
 * the model's special tokens, so it embeds `""` as these and answers a vector of the model's size;
 * node-llama-cpp's getEmbeddingFor answers an empty vector for no tokens, which would sit beside
 * full ones in a batch. The rules are llama.cpp's (llama_tokenize_impl), as node-llama-cpp's own
 * tokenizerUtils follows them. Empty when the model adds none: such an input cannot be embedded.
 */
export function emptyInputTokens(model: LlamaModel): Token[] {
  const tokens = model.tokens;
  const framing: Token[] = [];
  switch (model.vocabularyType) {
    case LlamaVocabularyType.rwkv:
      break;
    case LlamaVocabularyType.wpm:
      if (tokens.bos !== null) framing.push(tokens.bos);
      if (tokens.sep !== null) framing.push(tokens.sep);
      break;
    case LlamaVocabularyType.ugm:
      if (tokens.eos !== null) framing.push(tokens.eos);
      break;
    default:
      if (tokens.shouldPrependBosToken && tokens.bos !== null) framing.push(tokens.bos);
      if (tokens.shouldAppendEosToken && tokens.eos !== null) framing.push(tokens.eos);
  }
  return framing;
}
