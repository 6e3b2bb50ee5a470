import { fileTypeName, guessQuantization } from "./gguf-file-type.js";
import { type GgufValue, ggufInteger, ggufString } from "./gguf-types.js";
import { type GgufHeader, type ReadGgufHeaderOptions, readGgufHeader } from "./read-gguf-header.js";

/** What tandem needs to know about a GGUF model, read from its header. */
export interface GgufInfo {
  path: string;
  /** Size of the file in bytes. */
  fileSize: number;
  /** GGUF format version (2 or 3). */
  version: number;
  /** `general.architecture`, e.g. `llama`, `qwen2`. */
  architecture: string | undefined;
  /** `general.name`, the model's own name. */
  name: string | undefined;
  /** `<arch>.context_length`: the context the model was trained for, in tokens. */
  contextLength: number | undefined;
  /** `<arch>.embedding_length`. */
  embeddingLength: number | undefined;
  /** `<arch>.block_count` (layers). */
  blockCount: number | undefined;
  /** `general.file_type` (llama.cpp's `llama_ftype`), when the file has it. */
  fileType: number | undefined;
  /** The quantization name (`Q4_K_M`, `F16`...): from `general.file_type`, else guessed from the tensors as llama.cpp does. */
  quantization: string | undefined;
  /** True when `quantization` was guessed from the tensor types because the file has no `general.file_type`. */
  quantizationGuessed: boolean;
  /** Whether `tokenizer.chat_template` exists. */
  hasChatTemplate: boolean;
  /** The chat template (Jinja), when present. */
  chatTemplate: string | undefined;
  /** Whether the chat template has a thinking mode (chatTemplateThinks); a file without one has none. */
  thinks: boolean;
  tensorCount: number;
  /** Every metadata key/value (long arrays such as vocabularies without their items). */
  metadata: ReadonlyMap<string, GgufValue>;
}

/** Reads a GGUF file's header (never its tensors) and summarises it. Throws GgufError for a file that is not a sound GGUF. */
export async function readGgufInfo(path: string, options: ReadGgufHeaderOptions = {}): Promise<GgufInfo> {
  return summarizeGgufHeader(path, await readGgufHeader(path, options));
}

export function summarizeGgufHeader(path: string, header: GgufHeader): GgufInfo {
  const md = header.metadata;
  const architecture = ggufString(md.get("general.architecture"));
  const archKey = (suffix: string) => (architecture === undefined ? undefined : ggufInteger(md.get(`${architecture}.${suffix}`)));
  const fileType = ggufInteger(md.get("general.file_type"));
  const guessed = fileType === undefined ? guessQuantization(header.tensors) : undefined;
  const chatTemplate = ggufString(md.get("tokenizer.chat_template"));
  return {
    path,
    fileSize: header.fileSize,
    version: header.version,
    architecture,
    name: ggufString(md.get("general.name")),
    contextLength: archKey("context_length"),
    embeddingLength: archKey("embedding_length"),
    blockCount: archKey("block_count"),
    fileType,
    quantization: fileType === undefined ? guessed : fileTypeName(fileType),
    quantizationGuessed: guessed !== undefined,
    hasChatTemplate: md.has("tokenizer.chat_template"),
    chatTemplate,
    thinks: chatTemplate !== undefined && chatTemplateThinks(chatTemplate),
    tensorCount: header.tensorCount,
    metadata: md,
  };
}

/**
 * The marks of a thinking mode in a chat template, as the thinking models' own templates write them:
 * `<think>` (Qwen3, DeepSeek-R1, GLM, QwQ), `enable_thinking` (Qwen3's switch), `reasoning_content`
 * (templates that put back earlier turns' reasoning), gpt-oss's analysis channel and `thinking`
 * field, Magistral's `[THINK]` and Seed-OSS's `<seed:think>`. A template that has none of them cannot
 * be asked to think, and Ollama refuses `think` for such a model.
 */
const THINKING_MARKS =
  /<\/?think>|enable_thinking|reasoning_content|<\|channel\|>analysis|message\.thinking|\[THINK\]|<seed:think>/;

/** Whether a chat template has a thinking mode (THINKING_MARKS). */
export function chatTemplateThinks(template: string): boolean {
  return THINKING_MARKS.test(template);
}
