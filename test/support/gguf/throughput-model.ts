/**
 * A llama-architecture GGUF with the shapes of a real (small) model, for throughput benchmarks: it
 * does the work a real model of that size does per token, and greedy decoding gives a fixed text
 * that never ends by itself, so a bench can ask for N tokens and get exactly N.
 *
 * How: every weight a token's computation goes through is dense and pseudo-random at the usual
 * initialisation scale (llama.cpp's CPU kernels do the same work whatever the values), so the
 * attention and FFN blocks really compute. The residual stream is kept dominated by the token's
 * embedding by giving it a large norm (EMBED_SCALE): blocks see an RMS-normalised input as in any
 * model, but what they add is small against it, so the output layer reads the current token back.
 * Like scripted-model.ts, that makes the model a bigram machine: chain token k has its own embedding
 * direction k, whose row in output.weight puts a large logit on chain token k+1; every other token
 * (the prompt's) shares direction 0, which leads to chain token 0. The chain is as long as the
 * embedding has directions (n_embd - 1 tokens, " w0 w1 w2 ..."), then starts over, so no phrase
 * repeats within that many tokens (tandem's loop check stays quiet). EOS gets a large negative logit
 * from every chain direction: it is never the greedy choice.
 */

import type { GgmlTypeName, GgufEncoded, GgufMetadataInput, GgufTensorInput } from "./writer.js";
import { gguf, writeGgufFile } from "./writer.js";

/**
 * The defaults: 121M weights, a 242 MB file in F16, about 12 ms a token on one thread of a 2-core
 * x86-64 VM (80 tok/s, a real small model's speed); it takes about 5 s and 1.4 GB of memory to write.
 */
export interface ThroughputModelOptions {
  /** Embedding length; also bounds the chain (n_embd - 1 distinct tokens). Default 1024. */
  embeddingLength?: number;
  /** Transformer blocks. Default 10. */
  blockCount?: number;
  /** FFN hidden size. Default 2816. */
  feedForwardLength?: number;
  /** Attention heads; head size is n_embd / heads. Default 16. */
  headCount?: number;
  /** Key/value heads (grouped-query attention). Default 4. */
  headCountKv?: number;
  /** Vocabulary size, at least n_embd + 300. Default 4096. */
  vocabSize?: number;
  /** Element type of the 2-D weights; norms are always F32. Default F16. */
  tensorType?: GgmlTypeName;
  /** {arch}.context_length. Default 4096. */
  contextLength?: number;
  /** Seed of the pseudo-random weights. Default 1. */
  seed?: number;
}

export interface ThroughputModelInfo {
  path: string;
  /** The shape it was written with (the options, defaults filled in). */
  shape: Required<Omit<ThroughputModelOptions, "seed">>;
  fileSize: number;
  /** Weights in all tensors. */
  parameters: number;
  /** The greedy answer's tokens, in order, as text pieces (it repeats after the last). */
  chain: string[];
  eosTokenId: number;
  layout: GgufEncoded["tensors"];
}

// llama.cpp token types (llama_token_type)
const NORMAL = 1;
const UNKNOWN = 2;
const CONTROL = 3;
const BYTE = 6;

/** Residual norm from the embedding, against blocks that each add a vector of norm ~sqrt(n_embd). */
const EMBED_SCALE = 2000;
/** A successor's entry in output.weight (its logit is about this times sqrt(n_embd)). */
const SUCCESSOR_WEIGHT = 1;

/** Common English words (with every prefix, so SentencePiece's merges reach them): prompts cost about a token per word. */
const WORDS = `a about after again all also always an and any are as ask at away back be because been before big bird
boy but by came can cat come could day did do dog down each every find first for friend friends from fun game get girl
give go good had happy has have he her here him his home house how i if in into is it its just know like little lily
look loved made make man many may me more mom mother my named new no not now of old on once one only or other our out
outside over park play played put ran red said sat saw say see she so some sun that the their them then there they thing
think this time to too tree two up upon us very want was water way we well went were what when where which who will with
would you your`
  .split(/\s+/)
  .filter((w) => w !== "");

/** xorshift32: the same weights for the same seed, fast enough for tens of millions of values. */
function uniformNoise(seed: number): (n: number, std: number) => Float32Array {
  let x = seed >>> 0 || 1;
  return (n, std) => {
    // A uniform on [-a, a] has standard deviation a / sqrt(3).
    const a = std * Math.sqrt(3);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = ((x >>> 0) / 4294967296) * 2 * a - a;
    }
    return out;
  };
}

function buildVocab(size: number, chainLength: number): { tokens: string[]; types: number[]; scores: number[] } {
  const tokens = ["<unk>", "<bos>", "<eos>"];
  const types = [UNKNOWN, CONTROL, CONTROL];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(BYTE);
  }
  const seen = new Set(tokens);
  const add = (text: string) => {
    if (seen.has(text) || tokens.length >= size) return;
    seen.add(text);
    tokens.push(text);
    types.push(NORMAL);
  };
  add("\u2581");
  add("\n");
  for (let i = 0; i < chainLength; i++) add(`\u2581w${i}`);
  if (tokens.length < 259 + 2 + chainLength) throw new Error("throughput model: the vocabulary is too small for the chain");
  for (const w of WORDS) {
    for (const word of [`\u2581${w}`, w, w[0]!.toUpperCase() + w.slice(1), `\u2581${w[0]!.toUpperCase()}${w.slice(1)}`]) {
      const chars = [...word];
      for (let n = 2; n <= chars.length; n++) add(chars.slice(0, n).join(""));
    }
  }
  // Filler up to the requested size (a real vocabulary's long tail; never produced here).
  for (let i = 0; tokens.length < size; i++) add(`\u2581t${i}`);
  // SentencePiece merges the highest score first: longer pieces win.
  const scores = tokens.map((t, i) => (types[i] === NORMAL ? [...t].length : 0));
  return { tokens, types, scores };
}

/** Writes the model (the whole file is built in memory first: about its size, twice). */
export async function writeThroughputModel(path: string, options: ThroughputModelOptions = {}): Promise<ThroughputModelInfo> {
  const nEmbd = options.embeddingLength ?? 1024;
  const nLayer = options.blockCount ?? 10;
  const nFf = options.feedForwardLength ?? 2816;
  const nHead = options.headCount ?? 16;
  const nHeadKv = options.headCountKv ?? 4;
  const nVocab = options.vocabSize ?? 4096;
  const wt = options.tensorType ?? "F16";
  if (nEmbd % nHead !== 0 || nHead % nHeadKv !== 0)
    throw new Error("throughput model: heads must divide n_embd and n_head_kv must divide n_head");
  const headDim = nEmbd / nHead;
  const chainLength = nEmbd - 1;
  const vocab = buildVocab(nVocab, chainLength);
  const firstChainId = vocab.tokens.indexOf("\u2581w0");
  const eosId = 2;
  const noise = uniformNoise(options.seed ?? 1);

  // Chain token k (id firstChainId + k) is direction k + 1; everything else is direction 0.
  const embd = new Float32Array(nEmbd * nVocab);
  for (let v = 0; v < nVocab; v++) {
    const k = v - firstChainId;
    embd[v * nEmbd + (k >= 0 && k < chainLength ? k + 1 : 0)] = EMBED_SCALE;
  }
  // After output_norm the hidden state is about sqrt(n_embd) * e_dir (plus the blocks' small share),
  // so a row entry w on that direction gives a logit of about w * sqrt(n_embd); the random part of
  // every row adds O(1) noise. Successor of direction d: chain token d (direction 0 -> token 0,
  // direction k + 1 -> token k + 1), the last chain token leads back to the first.
  const out = noise(nEmbd * nVocab, 0.02);
  for (let d = 0; d < nEmbd; d++) {
    const next = d < chainLength ? d : 0;
    out[(firstChainId + next) * nEmbd + d] = SUCCESSOR_WEIGHT;
    out[eosId * nEmbd + d] = -SUCCESSOR_WEIGHT;
  }

  const kvDim = nHeadKv * headDim;
  const ones = (n: number) => new Float32Array(n).fill(1);
  const tensors: GgufTensorInput[] = [
    { name: "token_embd.weight", dims: [nEmbd, nVocab], data: embd, type: wt },
    { name: "output_norm.weight", dims: [nEmbd], data: ones(nEmbd) },
    { name: "output.weight", dims: [nEmbd, nVocab], data: out, type: wt },
  ];
  // Standard deviation 1/sqrt(fan_in): a block's output has components of order 1, so its norm
  // (~sqrt(n_embd)) is small against EMBED_SCALE.
  const w = (fanIn: number, fanOut: number) => noise(fanIn * fanOut, 1 / Math.sqrt(fanIn));
  for (let l = 0; l < nLayer; l++) {
    tensors.push(
      { name: `blk.${l}.attn_norm.weight`, dims: [nEmbd], data: ones(nEmbd) },
      { name: `blk.${l}.attn_q.weight`, dims: [nEmbd, nEmbd], data: w(nEmbd, nEmbd), type: wt },
      { name: `blk.${l}.attn_k.weight`, dims: [nEmbd, kvDim], data: w(nEmbd, kvDim), type: wt },
      { name: `blk.${l}.attn_v.weight`, dims: [nEmbd, kvDim], data: w(nEmbd, kvDim), type: wt },
      { name: `blk.${l}.attn_output.weight`, dims: [nEmbd, nEmbd], data: w(nEmbd, nEmbd), type: wt },
      { name: `blk.${l}.ffn_norm.weight`, dims: [nEmbd], data: ones(nEmbd) },
      { name: `blk.${l}.ffn_gate.weight`, dims: [nEmbd, nFf], data: w(nEmbd, nFf), type: wt },
      { name: `blk.${l}.ffn_up.weight`, dims: [nEmbd, nFf], data: w(nEmbd, nFf), type: wt },
      { name: `blk.${l}.ffn_down.weight`, dims: [nFf, nEmbd], data: w(nFf, nEmbd), type: wt },
    );
  }

  const metadata: Array<[string, GgufMetadataInput]> = [
    ["general.architecture", "llama"],
    ["general.name", "tandem throughput"],
    ["general.file_type", gguf.u32(wt === "F16" ? 1 : 0)],
    ["general.alignment", gguf.u32(32)],
    ["llama.context_length", gguf.u32(options.contextLength ?? 4096)],
    ["llama.embedding_length", gguf.u32(nEmbd)],
    ["llama.feed_forward_length", gguf.u32(nFf)],
    ["llama.block_count", gguf.u32(nLayer)],
    ["llama.attention.head_count", gguf.u32(nHead)],
    ["llama.attention.head_count_kv", gguf.u32(nHeadKv)],
    ["llama.rope.dimension_count", gguf.u32(headDim)],
    ["llama.rope.freq_base", gguf.f32(10000)],
    ["llama.attention.layer_norm_rms_epsilon", gguf.f32(1e-5)],
    ["tokenizer.ggml.model", "llama"],
    ["tokenizer.ggml.tokens", gguf.strings(vocab.tokens)],
    ["tokenizer.ggml.scores", gguf.f32s(vocab.scores)],
    ["tokenizer.ggml.token_type", gguf.i32s(vocab.types)],
    ["tokenizer.ggml.bos_token_id", gguf.u32(1)],
    ["tokenizer.ggml.eos_token_id", gguf.u32(eosId)],
    ["tokenizer.ggml.unknown_token_id", gguf.u32(0)],
    ["tokenizer.ggml.add_bos_token", true],
    ["tokenizer.ggml.add_eos_token", false],
    ["tokenizer.ggml.add_space_prefix", false],
  ];
  const encoded = await writeGgufFile(path, { metadata, tensors });
  return {
    path,
    shape: {
      embeddingLength: nEmbd,
      blockCount: nLayer,
      feedForwardLength: nFf,
      headCount: nHead,
      headCountKv: nHeadKv,
      vocabSize: nVocab,
      tensorType: wt,
      contextLength: options.contextLength ?? 4096,
    },
    fileSize: encoded.bytes.length,
    parameters: tensors.reduce((n, t) => n + t.data.length, 0),
    chain: vocab.tokens.slice(firstChainId, firstChainId + chainLength).map((t) => t.replace("\u2581", " ")),
    eosTokenId: eosId,
    layout: encoded.tensors,
  };
}
