/**
 * Tiny, deterministic "scripted" GGUF models for tests of the embedded llama.cpp engine.
 *
 * How it works: a model (llama or qwen2 architecture) with one transformer block whose attention
 * output projection and FFN down projection are all zeros, so the block adds nothing and the
 * residual stream at every position is just the current token's embedding. The next-token logits therefore depend only on the current
 * token: the model is a bigram machine. Every token that has a scripted successor gets its own
 * one-hot embedding direction; every other token shares one "fallback" direction. The rows of
 * output.weight then give, for each direction, a ranked list of successors (scores 16, 8, 4, ...,
 * every other token 0), so greedy decoding follows the designed chain exactly. The ranked second
 * choice matters when a grammar rejects the first one (node-llama-cpp's function-calling grammars).
 *
 * The only exception is `afterMarker`: one attention head that looks for a marker token anywhere
 * earlier in the context (used for "answer in text once the tool result is there").
 *
 * The tokenizer is SentencePiece-style (`tokenizer.ggml.model = "llama"`) with byte fallback
 * (<0x00>..<0xFF>), so any prompt tokenizes and round-trips; ~2,000 NORMAL word-piece tokens keep
 * prompts near one token per word. Every scripted piece is a USER_DEFINED token, which llama.cpp
 * matches as a whole wherever its text occurs (even without special-token parsing) and renders
 * verbatim. Pieces may be long (`{"city": "Paris"}` is one token). Caveat: a prompt that ENDS with
 * a piece's text continues the chain from that piece.
 *
 * By default the script starts after ANY token that is not part of the script itself, so any prompt
 * (any chat template, raw completion) gets the script as the answer. With `triggerAfter`, only that
 * text (made a token of its own) starts it, and every other prompt ending gets an immediate EOS.
 */

import {
  type GgmlTypeName,
  type GgufEncoded,
  type GgufMetadataInput,
  type GgufTensorInput,
  gguf,
  writeGgufFile,
} from "./writer.js";

// llama.cpp token types (llama_token_type)
const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, BYTE: 6 } as const;

/** Chat families: each fixes the architecture, special tokens and default chat template. */
export type ChatFamily = "qwen2.5" | "qwen3" | "llama3.1" | "plain";

/**
 * Qwen2.5-Instruct's own chat template (tokenizer_config.json of Qwen/Qwen2.5-*-Instruct), verbatim.
 * With architecture qwen2 node-llama-cpp 3.x resolves it to its QwenChatWrapper (native tool calls).
 */
export const QWEN25_CHAT_TEMPLATE = `{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n</tool_call><|im_end|>\\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\\n<tool_call>\\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' }}
        {{- message.content }}
        {{- '\\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
`;

/**
 * Qwen3's chat template (tokenizer_config.json of Qwen/Qwen3-*), as of its first release: the
 * Qwen2.5 shape plus `<think>` handling (earlier turns' reasoning dropped, `enable_thinking`).
 */
export const QWEN3_CHAT_TEMPLATE = `{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0].role == 'system' %}
        {{- messages[0].content + '\\n\\n' }}
    {%- endif %}
    {{- "# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n</tool_call><|im_end|>\\n" }}
{%- else %}
    {%- if messages[0].role == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}
{%- for message in messages[::-1] %}
    {%- set index = (messages|length - 1) - loop.index0 %}
    {%- if ns.multi_step_tool and message.role == "user" and message.content is string and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}
        {%- set ns.multi_step_tool = false %}
        {%- set ns.last_query_index = index %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- if message.content is string %}
        {%- set content = message.content %}
    {%- else %}
        {%- set content = '' %}
    {%- endif %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {%- set reasoning_content = '' %}
        {%- if message.reasoning_content is string %}
            {%- set reasoning_content = message.reasoning_content %}
        {%- else %}
            {%- if '</think>' in content %}
                {%- set reasoning_content = content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') %}
                {%- set content = content.split('</think>')[-1].lstrip('\\n') %}
            {%- endif %}
        {%- endif %}
        {%- if loop.index0 > ns.last_query_index %}
            {%- if loop.last or (not loop.last and reasoning_content) %}
                {{- '<|im_start|>' + message.role + '\\n<think>\\n' + reasoning_content.strip('\\n') + '\\n</think>\\n\\n' + content.lstrip('\\n') }}
            {%- else %}
                {{- '<|im_start|>' + message.role + '\\n' + content }}
            {%- endif %}
        {%- else %}
            {{- '<|im_start|>' + message.role + '\\n' + content }}
        {%- endif %}
        {%- if message.tool_calls %}
            {%- for tool_call in message.tool_calls %}
                {%- if (loop.first and content) or (not loop.first) %}
                    {{- '\\n' }}
                {%- endif %}
                {%- if tool_call.function %}
                    {%- set tool_call = tool_call.function %}
                {%- endif %}
                {{- '<tool_call>\\n{"name": "' }}
                {{- tool_call.name }}
                {{- '", "arguments": ' }}
                {%- if tool_call.arguments is string %}
                    {{- tool_call.arguments }}
                {%- else %}
                    {{- tool_call.arguments | tojson }}
                {%- endif %}
                {{- '}\\n</tool_call>' }}
            {%- endfor %}
        {%- endif %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if loop.first or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' }}
        {{- content }}
        {{- '\\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\\n\\n</think>\\n\\n' }}
    {%- endif %}
{%- endif %}
`;

interface SpecialTokenDef {
  text: string;
  type: number;
}

interface FamilyDef {
  architecture: "llama" | "qwen2";
  defaultName: string;
  /** Special tokens, in id order right after <unk> (id 0). */
  specials: SpecialTokenDef[];
  bos: string;
  eos: string;
  pad?: string;
  addBos: boolean;
  chatTemplate: string | null;
}

const FAMILIES: Record<ChatFamily, FamilyDef> = {
  "qwen2.5": {
    architecture: "qwen2",
    defaultName: "Qwen2.5 Tandem Scripted",
    specials: [
      { text: "<|endoftext|>", type: TOKEN_TYPE.CONTROL },
      { text: "<|im_start|>", type: TOKEN_TYPE.CONTROL },
      { text: "<|im_end|>", type: TOKEN_TYPE.CONTROL },
      // In Qwen2.5's vocabulary these are added tokens that are not "special": USER_DEFINED in GGUF.
      { text: "<tool_call>", type: TOKEN_TYPE.USER_DEFINED },
      { text: "</tool_call>", type: TOKEN_TYPE.USER_DEFINED },
    ],
    bos: "<|endoftext|>",
    eos: "<|im_end|>",
    pad: "<|endoftext|>",
    addBos: false,
    chatTemplate: QWEN25_CHAT_TEMPLATE,
  },
  // A thinking model: Qwen3's vocabulary and template on the qwen2 architecture (llama.cpp's qwen3
  // needs per-head q/k norms the bigram machine has no use for; node-llama-cpp picks its chat wrapper
  // by the template and the name, and its QwenChatWrapper covers both).
  qwen3: {
    architecture: "qwen2",
    defaultName: "Qwen3 Tandem Scripted",
    specials: [
      { text: "<|endoftext|>", type: TOKEN_TYPE.CONTROL },
      { text: "<|im_start|>", type: TOKEN_TYPE.CONTROL },
      { text: "<|im_end|>", type: TOKEN_TYPE.CONTROL },
      // Added tokens that are not "special" in Qwen3's vocabulary: USER_DEFINED in GGUF.
      { text: "<tool_call>", type: TOKEN_TYPE.USER_DEFINED },
      { text: "</tool_call>", type: TOKEN_TYPE.USER_DEFINED },
      { text: "<think>", type: TOKEN_TYPE.USER_DEFINED },
      { text: "</think>", type: TOKEN_TYPE.USER_DEFINED },
    ],
    bos: "<|endoftext|>",
    eos: "<|im_end|>",
    pad: "<|endoftext|>",
    addBos: false,
    chatTemplate: QWEN3_CHAT_TEMPLATE,
  },
  "llama3.1": {
    architecture: "llama",
    defaultName: "Llama 3.1 Tandem Scripted",
    specials: [
      { text: "<|begin_of_text|>", type: TOKEN_TYPE.CONTROL },
      { text: "<|end_of_text|>", type: TOKEN_TYPE.CONTROL },
      { text: "<|start_header_id|>", type: TOKEN_TYPE.CONTROL },
      { text: "<|end_header_id|>", type: TOKEN_TYPE.CONTROL },
      { text: "<|eom_id|>", type: TOKEN_TYPE.CONTROL },
      { text: "<|eot_id|>", type: TOKEN_TYPE.CONTROL },
      { text: "<|python_tag|>", type: TOKEN_TYPE.CONTROL },
    ],
    bos: "<|begin_of_text|>",
    eos: "<|eot_id|>",
    addBos: true,
    chatTemplate: null,
  },
  plain: {
    architecture: "llama",
    defaultName: "tandem scripted",
    // Not "<s>": node-llama-cpp takes a "<s>" BOS for a Llama 2 chat model.
    specials: [
      { text: "<bos>", type: TOKEN_TYPE.CONTROL },
      { text: "<eos>", type: TOKEN_TYPE.CONTROL },
    ],
    bos: "<bos>",
    eos: "<eos>",
    addBos: true,
    chatTemplate: null,
  },
};

/** A reference to a token of the scripted model's vocabulary. */
export type TokenRef =
  /** A piece of text: an existing token with exactly that text, else a new USER_DEFINED token. */
  | string
  /** The model's EOS token (the family's end-of-turn token, e.g. <|im_end|> for Qwen2.5). */
  | { readonly eos: true }
  /** A byte-fallback token <0xNN>. */
  | { readonly byte: number };

export const EOS: TokenRef = { eos: true };

/** The successor table of a bigram machine. Successor lists are ranked, best first. */
export interface BigramMachine {
  /** What follows any token that has no row of its own (in practice: the prompt's last token). */
  start: readonly TokenRef[];
  transitions: ReadonlyArray<{ readonly from: TokenRef; readonly to: readonly TokenRef[] }>;
  /** Extra USER_DEFINED tokens to put in the vocabulary (e.g. to make a text one token). */
  extraPieces?: readonly string[];
  /**
   * Context-dependent start: once `marker` (a token) occurs anywhere earlier in the context, tokens
   * without a row of their own (and the marker itself) lead to `start` instead of the machine's
   * `start`. Done with one attention head (see the file comment). E.g. marker "<tool_response>"
   * makes a tool-call model give a text answer once the tool result is in the conversation.
   */
  afterMarker?: { readonly marker: string; readonly start: readonly TokenRef[] };
}

/** Qwen2.5-Coder's fill-in-the-middle tokens (prefix, suffix, middle: its PSM order). */
export const FIM = { prefix: "<|fim_prefix|>", suffix: "<|fim_suffix|>", middle: "<|fim_middle|>" } as const;

const FIM_TOKENS: SpecialTokenDef[] = [FIM.prefix, FIM.suffix, FIM.middle].map((text) => ({ text, type: TOKEN_TYPE.CONTROL }));

export interface BigramModelOptions {
  family?: ChatFamily;
  /**
   * Give the vocabulary Qwen2.5-Coder's fill-in-the-middle tokens (FIM), CONTROL tokens named by
   * `tokenizer.ggml.fim_{pre,suf,mid}_token_id`, so llama.cpp can infill with the model. A machine
   * may name them (`{ from: FIM.middle, to: [...] }`: the answer to an infill). Default false.
   */
  fimTokens?: boolean;
  /** Jinja chat template for tokenizer.chat_template; default: the family's; null: none. */
  chatTemplate?: string | null;
  /** general.name; default: the family's (it mentions the family, which node-llama-cpp looks at). */
  name?: string;
  /** {arch}.context_length (the trained context). Default 4096. */
  contextLength?: number;
  /** Element type of the 2-D weights; default F32 (norm vectors are always F32). */
  tensorType?: GgmlTypeName;
  /**
   * Add ~2,000 NORMAL word-piece tokens (common English and the words of node-llama-cpp's
   * function-calling prompts) so prompts cost about a token per word, not one per byte. Default true.
   * They make output.weight n_vocab x n_embd bigger, which matters for scripts with many pieces.
   */
  wordTokens?: boolean;
}

export interface ScriptedModelInfo {
  path: string;
  family: ChatFamily;
  architecture: string;
  /** The vocabulary, by token id. */
  tokens: string[];
  eosTokenId: number;
  /** Token ids of the scripted answer, in order (EOS not included). Empty for pure machines. */
  scriptTokenIds: number[];
  /** The scripted pieces, in order (EOS not included). */
  scriptPieces: string[];
  /** The exact text of the scripted answer (the pieces joined). */
  expectedText: string;
  chatTemplate: string | null;
  fileSize: number;
  layout: GgufEncoded["tensors"];
}

/**
 * Words that get NORMAL tokens (with every prefix, so SentencePiece's merges can reach them), so
 * prompts cost roughly one token per word instead of one per byte. Taken from the system prompts
 * node-llama-cpp's chat wrappers write for function calling, plus common English.
 */
const WORDS = `a about access add advance after afterwards again all also always am an and answer answering any anything
appear appears are args argument arguments as ask assist assistant at available be because been before but by call calling
calls can choose city coherent conversation cutting date day december description dict do does don done each end entire
eot example existing explain factually false first follow following for format from fulfill function functions get give
good has have header hello help helpful helpfully here honest how human i id if im in include incorrectly inform
information instead instructions is it its json just key know knowledge like line looking make mandatory may me more
must my name needed new no not note now object of on one only or other out parameters params paraphrases part please
possible prefix prior properties provided put query question raw real relevant relying reminder repeats reply request
required respectful responding response result results retrieve return say search see sense share should signatures so
some something sources specified start string syntax system tag tags tell than thank thanks that the their them then
there these they this time to today tool tools type typescript use user using value visible want was we weather what
when where which who why will with within without would yes you your`
  .split(/\s+/)
  .filter((w) => w !== "");

const RANK_SCORES = [16, 8, 4, 2, 1];
const HEAD_DIM = 8;
const N_FF = 8;

function refKey(ref: TokenRef): string {
  if (typeof ref === "string") return `p:${ref}`;
  if ("eos" in ref) return "eos";
  return `b:${ref.byte}`;
}

interface BuiltVocab {
  tokens: string[];
  types: number[];
  scores: number[];
  idOf: (ref: TokenRef) => number;
}

function buildVocab(family: FamilyDef, pieces: readonly string[], wordTokens: boolean): BuiltVocab {
  const tokens: string[] = ["<unk>"];
  const types: number[] = [TOKEN_TYPE.UNKNOWN];
  for (const s of family.specials) {
    tokens.push(s.text);
    types.push(s.type);
  }
  const byteBase = tokens.length;
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(TOKEN_TYPE.BYTE);
  }
  // SentencePiece escapes spaces as U+2581 before lookup; with a token for it a space round-trips as a
  // space (via byte fallback it would come back as the three bytes of U+2581). A NORMAL "\n" token makes
  // the byte token <0x0A> unreachable by tokenization, so scripts can use that one for grammar-forced
  // newlines without it colliding with the newlines every chat template ends its prompt with.
  const byText = new Map<string, number>();
  tokens.forEach((t, i) => {
    if (types[i] !== TOKEN_TYPE.BYTE) byText.set(t, i);
  });
  const scores: number[] = tokens.map(() => 0);
  const addNormal = (text: string): void => {
    if (byText.has(text)) return;
    byText.set(text, tokens.length);
    tokens.push(text);
    types.push(TOKEN_TYPE.NORMAL);
    scores.push([...text].length); // SentencePiece merges the highest score first: longer pieces win
  };
  addNormal("\u2581");
  addNormal("\n");
  for (const w of wordTokens ? WORDS : []) {
    // " word", "word" (after a newline or punctuation) and "Word" (sentence starts)
    for (const word of [`\u2581${w}`, w, w[0]!.toUpperCase() + w.slice(1)]) {
      const chars = [...word];
      for (let n = 2; n <= chars.length; n++) addNormal(chars.slice(0, n).join(""));
    }
  }
  for (const p of pieces) {
    if (p === "") throw new Error("scripted model: empty piece");
    if (byText.has(p)) continue;
    byText.set(p, tokens.length);
    tokens.push(p);
    types.push(TOKEN_TYPE.USER_DEFINED);
    scores.push(0);
  }
  const eosId = byText.get(family.eos)!;
  return {
    tokens,
    types,
    scores,
    idOf(ref) {
      if (typeof ref === "string") {
        const id = byText.get(ref);
        if (id === undefined) throw new Error(`scripted model: unknown piece ${JSON.stringify(ref)}`);
        return id;
      }
      if ("eos" in ref) return eosId;
      if (!Number.isInteger(ref.byte) || ref.byte < 0 || ref.byte > 255) throw new Error(`bad byte ${ref.byte}`);
      return byteBase + ref.byte;
    },
  };
}

function collectPieces(machine: BigramMachine): string[] {
  const out: string[] = [...(machine.extraPieces ?? [])];
  const add = (r: TokenRef): void => {
    if (typeof r === "string") out.push(r);
  };
  machine.start.forEach(add);
  if (machine.afterMarker) {
    add(machine.afterMarker.marker);
    machine.afterMarker.start.forEach(add);
  }
  for (const t of machine.transitions) {
    add(t.from);
    t.to.forEach(add);
  }
  return out;
}

export interface BuiltModel {
  metadata: Array<[string, GgufMetadataInput]>;
  tensors: GgufTensorInput[];
  vocab: BuiltVocab;
  family: FamilyDef;
  chatTemplate: string | null;
}

export function buildBigramModel(machine: BigramMachine, options: BigramModelOptions): BuiltModel {
  const familyName = options.family ?? "qwen2.5";
  const family = options.fimTokens
    ? { ...FAMILIES[familyName], specials: [...FAMILIES[familyName].specials, ...FIM_TOKENS] }
    : FAMILIES[familyName];
  const vocab = buildVocab(family, collectPieces(machine), options.wordTokens ?? true);
  const nVocab = vocab.tokens.length;

  // Direction 0 is the shared fallback; each token with a row gets a direction of its own.
  const rowTargets: number[][] = [machine.start.map((r) => vocab.idOf(r))];
  const dirOfToken = new Map<number, number>();
  for (const t of machine.transitions) {
    const from = vocab.idOf(t.from);
    if (dirOfToken.has(from)) throw new Error(`scripted model: two transitions from ${refKey(t.from)}`);
    dirOfToken.set(from, rowTargets.length);
    rowTargets.push(t.to.map((r) => vocab.idOf(r)));
  }
  const marker = machine.afterMarker;
  let markerDir = -1;
  let afterDir = -1;
  if (marker) {
    const markerId = vocab.idOf(marker.marker);
    const existing = dirOfToken.get(markerId);
    if (existing === undefined) {
      markerDir = rowTargets.length;
      dirOfToken.set(markerId, markerDir);
      rowTargets.push(rowTargets[0]!);
    } else {
      markerDir = existing;
    }
    afterDir = rowTargets.length;
    rowTargets.push(marker.start.map((r) => vocab.idOf(r)));
  }
  for (const targets of rowTargets) {
    if (targets.length === 0 || targets.length > RANK_SCORES.length) {
      throw new Error(`scripted model: each successor list needs 1..${RANK_SCORES.length} entries`);
    }
    if (new Set(targets).size !== targets.length) throw new Error("scripted model: a successor list repeats a token");
  }

  const nEmbd = Math.max(16, Math.ceil(rowTargets.length / 8) * 8);
  const embd = new Float32Array(nEmbd * nVocab);
  for (let v = 0; v < nVocab; v++) embd[v * nEmbd + (dirOfToken.get(v) ?? 0)] = 1;

  // RMS norm turns the one-hot e_d into sqrt(n_embd) * e_d, so logit_j = W[j][d] * sqrt(n_embd).
  const out = new Float32Array(nEmbd * nVocab);
  const scale = 1 / Math.sqrt(nEmbd);
  rowTargets.forEach((targets, dir) => {
    targets.forEach((tok, rank) => {
      out[tok * nEmbd + dir] = RANK_SCORES[rank]! * scale;
    });
  });

  // Attention, only used for `afterMarker` (otherwise every projection is zero and the block is a no-op).
  // Head 0 reads dim 7 of q and k, the dim whose RoPE pair turns slowest (both for llama's NORM and
  // qwen2's NEOX ordering); with a huge rope.freq_base it does not turn at all, so q.k ignores positions.
  // Queries: +Q from fallback tokens and the marker, -Q from every other token (they look away).
  // Keys: K on the marker only. Values: the marker writes 1 into dim 0 of head 0's output, which
  // attn_output copies into the residual stream as M * e_after. So a fallback token with a marker
  // anywhere before it sees e_fallback + M e_after, and its logits become
  // (s_fallback + M s_after) / sqrt(1 + M^2): the `afterMarker.start` list wins. Without a marker every
  // key is 0, attention averages zero values, and nothing changes.
  const wq = new Float32Array(nEmbd * nEmbd);
  const wk = new Float32Array(nEmbd * HEAD_DIM);
  const wv = new Float32Array(nEmbd * HEAD_DIM);
  const wo = new Float32Array(nEmbd * nEmbd);
  if (marker) {
    const Q = 10;
    const K = 10;
    const M = 4;
    const inScale = 1 / Math.sqrt(nEmbd); // attn_norm turns the one-hot e_d into sqrt(n_embd) * e_d
    for (let d = 0; d < nEmbd; d++) wq[7 * nEmbd + d] = (d === 0 || d === markerDir ? Q : -Q) * inScale;
    wk[7 * nEmbd + markerDir] = K * inScale;
    wv[0 * nEmbd + markerDir] = inScale;
    wo[afterDir * nEmbd + 0] = M;
  }

  const wt = options.tensorType ?? "F32";
  const arch = family.architecture;
  const zeros = (n: number): Float32Array => new Float32Array(n);
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1);
  const tensors: GgufTensorInput[] = [
    { name: "token_embd.weight", dims: [nEmbd, nVocab], data: embd, type: wt },
    { name: "output_norm.weight", dims: [nEmbd], data: ones(nEmbd) },
    { name: "output.weight", dims: [nEmbd, nVocab], data: out, type: wt },
    { name: "blk.0.attn_norm.weight", dims: [nEmbd], data: ones(nEmbd) },
    { name: "blk.0.attn_q.weight", dims: [nEmbd, nEmbd], data: wq, type: wt },
    { name: "blk.0.attn_k.weight", dims: [nEmbd, HEAD_DIM], data: wk, type: wt },
    { name: "blk.0.attn_v.weight", dims: [nEmbd, HEAD_DIM], data: wv, type: wt },
    { name: "blk.0.attn_output.weight", dims: [nEmbd, nEmbd], data: wo, type: wt },
    { name: "blk.0.ffn_norm.weight", dims: [nEmbd], data: ones(nEmbd) },
    { name: "blk.0.ffn_gate.weight", dims: [nEmbd, N_FF], data: zeros(nEmbd * N_FF), type: wt },
    { name: "blk.0.ffn_up.weight", dims: [nEmbd, N_FF], data: zeros(nEmbd * N_FF), type: wt },
    { name: "blk.0.ffn_down.weight", dims: [N_FF, nEmbd], data: zeros(nEmbd * N_FF), type: wt },
  ];
  if (arch === "qwen2") {
    tensors.push(
      { name: "blk.0.attn_q.bias", dims: [nEmbd], data: zeros(nEmbd) },
      { name: "blk.0.attn_k.bias", dims: [HEAD_DIM], data: zeros(HEAD_DIM) },
      { name: "blk.0.attn_v.bias", dims: [HEAD_DIM], data: zeros(HEAD_DIM) },
    );
  }

  const chatTemplate = options.chatTemplate === undefined ? family.chatTemplate : options.chatTemplate;
  const id = (text: string): number => vocab.idOf(text);
  const metadata: Array<[string, GgufMetadataInput]> = [
    ["general.architecture", arch],
    ["general.name", options.name ?? family.defaultName],
    ["general.file_type", gguf.u32(wt === "F16" ? 1 : 0)],
    ["general.alignment", gguf.u32(32)],
    [`${arch}.context_length`, gguf.u32(options.contextLength ?? 4096)],
    [`${arch}.embedding_length`, gguf.u32(nEmbd)],
    [`${arch}.feed_forward_length`, gguf.u32(N_FF)],
    [`${arch}.block_count`, gguf.u32(1)],
    // n_embd / n_head = HEAD_DIM per head; one KV head (GQA) keeps attn_k/attn_v small.
    [`${arch}.attention.head_count`, gguf.u32(nEmbd / HEAD_DIM)],
    [`${arch}.attention.head_count_kv`, gguf.u32(1)],
    [`${arch}.rope.dimension_count`, gguf.u32(HEAD_DIM)],
    [`${arch}.rope.freq_base`, gguf.f32(1e12)],
    [`${arch}.attention.layer_norm_rms_epsilon`, gguf.f32(1e-6)],
    ["tokenizer.ggml.model", "llama"],
    ["tokenizer.ggml.tokens", gguf.strings(vocab.tokens)],
    ["tokenizer.ggml.scores", gguf.f32s(vocab.scores)],
    ["tokenizer.ggml.token_type", gguf.i32s(vocab.types)],
    ["tokenizer.ggml.bos_token_id", gguf.u32(id(family.bos))],
    ["tokenizer.ggml.eos_token_id", gguf.u32(id(family.eos))],
    ["tokenizer.ggml.unknown_token_id", gguf.u32(0)],
    ...(family.pad === undefined
      ? []
      : [["tokenizer.ggml.padding_token_id", gguf.u32(id(family.pad))] as [string, GgufMetadataInput]]),
    ...(options.fimTokens
      ? ([
          ["tokenizer.ggml.fim_pre_token_id", gguf.u32(vocab.idOf(FIM.prefix))],
          ["tokenizer.ggml.fim_suf_token_id", gguf.u32(vocab.idOf(FIM.suffix))],
          ["tokenizer.ggml.fim_mid_token_id", gguf.u32(vocab.idOf(FIM.middle))],
        ] as Array<[string, GgufMetadataInput]>)
      : []),
    ["tokenizer.ggml.add_bos_token", family.addBos],
    ["tokenizer.ggml.add_eos_token", false],
    ["tokenizer.ggml.add_space_prefix", false],
    ...(chatTemplate === null ? [] : [["tokenizer.chat_template", chatTemplate] as [string, GgufMetadataInput]]),
  ];
  return { metadata, tensors, vocab, family, chatTemplate };
}

/** Writes a bigram-machine model; the low-level builder the presets use. */
export async function writeBigramModel(
  path: string,
  machine: BigramMachine,
  options: BigramModelOptions = {},
  script: { pieces: readonly string[] } = { pieces: [] },
): Promise<ScriptedModelInfo> {
  const built = buildBigramModel(machine, options);
  const encoded = await writeGgufFile(path, { metadata: built.metadata, tensors: built.tensors });
  return {
    path,
    family: options.family ?? "qwen2.5",
    architecture: built.family.architecture,
    tokens: built.vocab.tokens,
    eosTokenId: built.vocab.idOf(EOS),
    scriptTokenIds: script.pieces.map((p) => built.vocab.idOf(p)),
    scriptPieces: [...script.pieces],
    expectedText: script.pieces.join(""),
    chatTemplate: built.chatTemplate,
    fileSize: encoded.bytes.length,
    layout: encoded.tensors,
  };
}

/**
 * Splits an answer into pieces: words with their leading whitespace ("Hello", " from", " tandem.").
 * A piece that would repeat an earlier one is joined with what follows it, because in a bigram
 * machine a token can have only one successor.
 */
export function splitScript(text: string): string[] {
  if (text === "") throw new Error("scripted model: empty script");
  const raw = text.match(/\s*\S+|\s+$/g) ?? [text];
  const out: string[] = [];
  const seen = new Set<string>();
  let pending = "";
  for (const p of raw) {
    pending += p;
    if (!seen.has(pending)) {
      out.push(pending);
      seen.add(pending);
      pending = "";
    }
  }
  while (pending !== "") {
    const last = out.pop();
    if (last === undefined) {
      out.push(pending);
      break;
    }
    seen.delete(last);
    pending = last + pending;
    if (!seen.has(pending)) {
      out.push(pending);
      pending = "";
    }
  }
  return out;
}

export interface ScriptedModelOptions extends BigramModelOptions {
  /** The exact answer: a text (split into word pieces) or the explicit, distinct token pieces. */
  script: string | readonly string[];
  /**
   * Start the script only after this text (made a token of its own), e.g. "assistant\n" for
   * Qwen's "<|im_start|>assistant\n"; any other prompt ending gets EOS right away.
   * Default: any prompt ending starts the script.
   */
  triggerAfter?: string;
  /** What follows the last piece: EOS (default) or the first piece again, forever. */
  end?: "eos" | "loop";
}

/** Writes a model whose greedy answer to any prompt (or to `triggerAfter`) is exactly the script. */
export async function writeScriptedModel(path: string, options: ScriptedModelOptions): Promise<ScriptedModelInfo> {
  const pieces = typeof options.script === "string" ? splitScript(options.script) : [...options.script];
  if (pieces.length === 0) throw new Error("scripted model: empty script");
  if (new Set(pieces).size !== pieces.length) {
    throw new Error("scripted model: script pieces must be distinct (a bigram machine gives each token one successor)");
  }
  if (options.triggerAfter !== undefined && pieces.includes(options.triggerAfter)) {
    throw new Error("scripted model: triggerAfter must not be one of the script's pieces");
  }
  const first = pieces[0]!;
  const transitions: Array<{ from: TokenRef; to: TokenRef[] }> = pieces.map((p, i) => ({
    from: p,
    to: [i + 1 < pieces.length ? pieces[i + 1]! : options.end === "loop" ? first : EOS],
  }));
  const machine: BigramMachine =
    options.triggerAfter === undefined
      ? { start: [first], transitions }
      : { start: [EOS], transitions: [{ from: options.triggerAfter, to: [first] }, ...transitions] };
  return writeBigramModel(path, machine, options, { pieces });
}

// ---------------------------------------------------------------------------------------------
// Presets for tandem's tests. Each defaults to the qwen2.5 family (QwenChatWrapper in node-llama-cpp);
// `family: "llama3.1"` gives a model node-llama-cpp drives with its Llama3_1ChatWrapper instead.
// ---------------------------------------------------------------------------------------------

export type PresetOptions = BigramModelOptions;

/** (a) A plain chat answer, "Hello from tandem." by default (pieces "Hello", " from", " tandem."). */
export function writeChatModel(path: string, options: PresetOptions & { answer?: string } = {}): Promise<ScriptedModelInfo> {
  const { answer = "Hello from tandem.", ...rest } = options;
  return writeScriptedModel(path, { ...rest, script: answer });
}

/** Python json.dumps-style JSON (", " and ": " separators), as Qwen's `tojson` writes arguments. */
export function pyJsonDumps(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => pyJsonDumps(v)).join(", ")}]`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${JSON.stringify(k)}: ${pyJsonDumps(v)}`)
    .join(", ")}}`;
}

export interface ToolCallModelOptions extends PresetOptions {
  /** Default "get_weather". Must not contain whitespace. */
  functionName?: string;
  /** Default { city: "Paris" }. Written as one token: JSON with ", " and ": " separators. */
  arguments?: Record<string, unknown>;
  /**
   * The text answer once a tool result is in the context (Qwen: "<tool_response>"; Llama 3.1 as
   * node-llama-cpp writes it: the "ipython" header). Default "It is sunny in Paris."; null: none
   * (the model then calls the tool again after the result).
   */
  finalAnswer?: string | null;
}

interface ToolFormat {
  /** Pieces before the function name. */
  open: string[];
  /** Piece between the name and the arguments. */
  paramsPrefix: string;
  /** Pieces after the arguments. */
  close: string[];
  /** The token after the last `close` piece. */
  end: TokenRef;
  /** A text that the chat wrapper puts before a tool result. */
  resultMarker: string;
}

const TOOL_FORMATS: Record<Exclude<ChatFamily, "plain">, ToolFormat> = {
  // Qwen2.5's template: <tool_call>\n{"name": "NAME", "arguments": ARGS}\n</tool_call><|im_end|>
  "qwen2.5": {
    open: ["<tool_call>", '\n{"name": "'],
    paramsPrefix: '", "arguments": ',
    close: ["}\n", "</tool_call>"],
    end: EOS,
    resultMarker: "<tool_response>",
  },
  // Qwen3 calls tools as Qwen2.5 does.
  qwen3: {
    open: ["<tool_call>", '\n{"name": "'],
    paramsPrefix: '", "arguments": ',
    close: ["}\n", "</tool_call>"],
    end: EOS,
    resultMarker: "<tool_response>",
  },
  // node-llama-cpp's Llama3_1ChatWrapper: <function=NAME>ARGS</function><|eom_id|>
  "llama3.1": {
    open: ["<function="],
    paramsPrefix: ">",
    close: ["</function>"],
    end: "<|eom_id|>",
    resultMarker: "ipython",
  },
};

/** node-llama-cpp's grammar for function params ends with four newlines. */
const PARAMS_GRAMMAR_END = "\n\n\n\n";

/**
 * (b) A model that answers with one tool call, and with a text answer once the tool's result is in
 * the conversation.
 *
 * Free-running (raw completion, no grammar) it writes the family's native call format exactly, e.g.
 * Qwen2.5's `<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>` and
 * then EOS (<|im_end|>); that text is `expectedText`.
 * Under node-llama-cpp's function calling, the function-name grammar only allows "\n" after the
 * name and the params grammar only allows "\n\n\n\n" after the arguments; the machine's ranked
 * second choices are exactly those, so `LlamaChat.generateResponse(..., { functions })` returns
 * `functionCalls: [{ functionName: "get_weather", params: { city: "Paris" } }]`.
 */
export function writeToolCallModel(path: string, options: ToolCallModelOptions = {}): Promise<ScriptedModelInfo> {
  const {
    functionName = "get_weather",
    arguments: args = { city: "Paris" },
    finalAnswer = "It is sunny in Paris.",
    ...rest
  } = options;
  const family = rest.family ?? "qwen2.5";
  if (family === "plain") throw new Error("tool call model: the plain family has no tool call format");
  if (/\s/.test(functionName) || functionName === "") throw new Error("tool call model: bad function name");
  const format = TOOL_FORMATS[family];
  const argsJson = pyJsonDumps(args);
  const pieces = [...format.open, functionName, format.paramsPrefix, argsJson, ...format.close];
  const answerPieces = finalAnswer === null ? [] : splitScript(finalAnswer);
  const chain = (list: readonly string[], last: TokenRef): Array<{ from: TokenRef; to: TokenRef[] }> =>
    list.map((p, i) => ({ from: p, to: [list[i + 1] ?? last] }));
  const newline: TokenRef = { byte: 0x0a };
  const machine: BigramMachine = {
    start: [pieces[0]!],
    transitions: [
      ...chain(format.open, functionName),
      // The native format continues with paramsPrefix; node-llama-cpp's name grammar only allows "\n".
      { from: functionName, to: [format.paramsPrefix, newline] },
      { from: format.paramsPrefix, to: [argsJson] },
      { from: newline, to: [argsJson] },
      // The native format closes the call; node-llama-cpp's params grammar wants "\n\n\n\n".
      { from: argsJson, to: [format.close[0]!, PARAMS_GRAMMAR_END] },
      ...chain(format.close, format.end),
      { from: PARAMS_GRAMMAR_END, to: [EOS] },
      ...chain(answerPieces, EOS),
    ],
    ...(answerPieces.length === 0 ? {} : { afterMarker: { marker: format.resultMarker, start: [answerPieces[0]!] } }),
  };
  return writeBigramModel(path, machine, { ...rest, family }, { pieces });
}

/** (c) A model that never stops: it cycles through its pieces ("tick tock tick tock ...") forever, never EOS. */
export function writeLoopingModel(
  path: string,
  options: PresetOptions & { pieces?: readonly string[] } = {},
): Promise<ScriptedModelInfo> {
  const { pieces = ["tick", " tock", " "], ...rest } = options;
  return writeScriptedModel(path, { ...rest, script: pieces, end: "loop" });
}

/** The pieces of the long answer: "w0", " w1", " w2", ... */
export function longAnswerPieces(tokenCount: number): string[] {
  return Array.from({ length: tokenCount }, (_, i) => (i === 0 ? "w0" : ` w${i}`));
}

/**
 * (d) A model whose answer is exactly `tokenCount` tokens, "w0 w1 ... w{N-1}", then EOS. Default 128.
 * Word tokens are off by default here (prompts tokenize per byte) to keep the file small.
 */
export function writeLongAnswerModel(
  path: string,
  options: PresetOptions & { tokenCount?: number } = {},
): Promise<ScriptedModelInfo> {
  const { tokenCount = 128, ...rest } = options;
  if (!Number.isInteger(tokenCount) || tokenCount < 1) throw new Error("long answer model: tokenCount must be >= 1");
  // Each piece needs its own embedding dimension; without the word tokens the file stays small.
  return writeScriptedModel(path, { wordTokens: false, ...rest, script: longAnswerPieces(tokenCount) });
}

/**
 * (e) A model whose answer is the JSON text `{"answer": "yes"}` (by default) as ONE token, then EOS.
 * That token passes node-llama-cpp's "json" grammar and a JSON-schema grammar for {answer: string}.
 */
export function writeJsonAnswerModel(
  path: string,
  options: PresetOptions & { value?: unknown } = {},
): Promise<ScriptedModelInfo> {
  const { value = { answer: "yes" }, ...rest } = options;
  return writeScriptedModel(path, { ...rest, script: [pyJsonDumps(value)] });
}

/**
 * (f) A thinking model (Qwen3's vocabulary and template): it answers
 * `<think>\n{reasoning}\n</think>\n\n{answer}` and then EOS, as Qwen3 does. node-llama-cpp reads
 * the part between `<think>` and `</think>` as a thought segment. The reasoning's last piece ends
 * with the newline, so each newline is a token of its own (a bigram machine gives a token one
 * successor), and the one after `<think>` is the byte token, which no prompt ends with.
 * A thought budget of 0 makes node-llama-cpp close the segment at once (it writes `</think>` itself),
 * and the machine goes on from `</think>` with the answer.
 */
export function writeThinkingModel(
  path: string,
  options: PresetOptions & { reasoning?: string; answer?: string } = {},
): Promise<ScriptedModelInfo> {
  const { reasoning = "The user wants the number. Recall it: forty-two.", answer = "It is 42.", ...rest } = options;
  const thought = splitScript(reasoning);
  thought[thought.length - 1] += "\n";
  const reply = splitScript(answer);
  if (new Set([...thought, ...reply]).size !== thought.length + reply.length) {
    throw new Error("thinking model: the reasoning and the answer must not share a piece");
  }
  const newline: TokenRef = { byte: 0x0a };
  const chain = (list: readonly string[], last: TokenRef): Array<{ from: TokenRef; to: TokenRef[] }> =>
    list.map((p, i) => ({ from: p, to: [list[i + 1] ?? last] }));
  const machine: BigramMachine = {
    start: ["<think>"],
    transitions: [
      { from: "<think>", to: [newline] },
      { from: newline, to: [thought[0]!] },
      ...chain(thought, "</think>"),
      { from: "</think>", to: ["\n\n"] },
      { from: "\n\n", to: [reply[0]!] },
      ...chain(reply, EOS),
    ],
  };
  const pieces = ["<think>", "\n", ...thought, "</think>", "\n\n", ...reply];
  return writeBigramModel(path, machine, { family: "qwen3", ...rest }, { pieces }).then((info) => ({
    ...info,
    scriptTokenIds: [],
  }));
}
