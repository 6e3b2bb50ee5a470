import { type JsonSpan, jsonElementSpans, jsonValueSpan, writtenObjectText } from "./json-text-edit.js";

/**
 * The text of a value inside the request body's `messages[i]`, exactly as the client wrote it:
 * `(i, path)`, undefined where it cannot be found (no body text kept, a large body parsed in turns).
 * The messages' places are found once, so each look-up reads one message's text, not the body's.
 */
export type WrittenMessageValue = (message: number, path: ReadonlyArray<string | number>) => string | undefined;

export function writtenMessageValues(bodyText: string | undefined): WrittenMessageValue {
  if (bodyText === undefined) return () => undefined;
  let spans: JsonSpan[] | undefined | null = null;
  return (message, path) => {
    if (spans === null) {
      const list = jsonValueSpan(bodyText, ["messages"]);
      spans = list !== undefined && bodyText.charCodeAt(list.start) === 0x5b ? jsonElementSpans(bodyText, list.start) : undefined;
    }
    const span = spans?.[message];
    const value = span && jsonValueSpan(bodyText, path, span.start);
    return value && bodyText.slice(value.start, value.end);
  };
}

/**
 * A history call's arguments given as an object (Anthropic's `input`, Ollama's `arguments`) as their
 * JSON text: the client's own text when it is one object and writing the parsed value again would
 * change it (an integer past 2^53, `1.10`), so that an upstream that takes the text (OpenAI's wires)
 * is sent the digits the model wrote; else the parsed value written out.
 */
export function callArgumentsText(input: unknown, written: string | undefined): string {
  const serialised = JSON.stringify(input);
  return writtenObjectText(written, serialised) ?? serialised;
}
