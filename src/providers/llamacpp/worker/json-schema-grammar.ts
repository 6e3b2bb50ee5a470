import type { GbnfJsonSchema, Llama, LlamaGrammar } from "node-llama-cpp";
import { enumsAsPrefixTrees } from "./enum-prefix-tree.js";

/** node-llama-cpp's rule for a JSON Schema `integer`, whatever its right-hand side. */
const INTEGER_RULE = /^integer-number-rule ::= .*$/m;
/** An integer as JSON writes one: digits, no fraction and no exponent. */
const PLAIN_INTEGER = 'integer-number-rule ::= "-"? ("0" | [1-9] [0-9]{0,15})';

/**
 * node-llama-cpp's grammar for a JSON Schema, with two fixes. Its `integer` rule allows an exponent,
 * negative ones too, so a model held to `{"type": "integer"}` could still write `2e-1` (0.2), which
 * fails the router's quality check against the client's schema and costs a retry: here an integer
 * is digits only, as every JSON encoder writes one. And an `enum` is written as a prefix tree of its
 * values rather than one alternative per value, which accepts the same text at a fraction of the
 * per-token cost (see enum-prefix-tree.ts). The grammar keeps its stop triggers and whitespace
 * trimming.
 */
export async function jsonSchemaGrammar(llama: Llama, schema: GbnfJsonSchema): Promise<LlamaGrammar> {
  // The schema is built at run time, so its type cannot be narrowed statically.
  const grammar = await llama.createGrammarForJsonSchema(schema as Parameters<typeof llama.createGrammarForJsonSchema>[0]);
  const text = enumsAsPrefixTrees(grammar.grammar.replace(INTEGER_RULE, PLAIN_INTEGER));
  if (text === grammar.grammar) return grammar;
  return llama.createGrammar({
    grammar: text,
    stopGenerationTriggers: grammar.stopGenerationTriggers,
    trimWhitespaceSuffix: grammar.trimWhitespaceSuffix,
    rootRuleName: grammar.rootRuleName,
  });
}
