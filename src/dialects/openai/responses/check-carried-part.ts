import type { WireOnly } from "../../../core/index.js";
import type { StateItem } from "../../../core/state.js";
import { imageSource } from "../convert-from-openai-messages.js";
import { invalidParam, typeOf } from "../state/index.js";

/**
 * What POST /v1/responses cannot carry to every target, checked on each content part of the input
 * (the one normaliser in ../state does the rest). An image needs an https or `data:` URL, or a
 * `file_id`. Parts with no canonical form — `input_file` (`file_data`, `file_id` or `file_url`),
 * `input_audio`, an image by `file_id` — are kept as they came and named in `wireOnly` by their
 * param (`input[0].content[1]`), as chat completions names its `file` and `input_audio` parts: only a
 * Responses-native target can be sent them (router/target-fit.ts), and one that carries bytes inline
 * is `unread` (privacy classification counts it as an image). A reference (`file_id`, `file_url`)
 * sends nothing new. tandem has no Files API: a `file_id` is the upstream's.
 */
export function checkCarriedPart(part: Record<string, unknown>, param: string, wireOnly: WireOnly[]): void {
  switch (part.type) {
    case "input_image": {
      if (typeof part.image_url !== "string" || part.image_url === "") {
        if (typeof part.file_id === "string" && part.file_id !== "") {
          wireOnly.push({ param, what: "an input_image part by file_id" });
          return;
        }
        throw invalidParam(
          `${param}.image_url`,
          `Invalid value for '${param}.image_url': expected image_url (an https or data: URL) or file_id.`,
        );
      }
      imageSource(part.image_url, `${param}.image_url`);
      return;
    }
    case "input_file": {
      for (const field of ["file_data", "file_id", "file_url", "filename"]) optionalString(part, param, field);
      if (!nonEmpty(part.file_data) && !nonEmpty(part.file_id) && !nonEmpty(part.file_url)) {
        throw invalidParam(
          param,
          `Invalid '${param}': an input_file needs 'file_data', 'file_id' or 'file_url'.`,
          "missing_required_parameter",
        );
      }
      wireOnly.push({ param, what: "an input_file part", ...(nonEmpty(part.file_data) && { unread: true as const }) });
      return;
    }
    case "input_audio": {
      const audio = part.input_audio;
      if (audio === null || typeof audio !== "object" || Array.isArray(audio)) {
        throw invalidParam(
          `${param}.input_audio`,
          `Missing required parameter: '${param}.input_audio'.`,
          "missing_required_parameter",
        );
      }
      for (const field of ["data", "format"]) {
        if (typeof (audio as Record<string, unknown>)[field] !== "string") {
          throw invalidParam(
            `${param}.input_audio.${field}`,
            `Missing required parameter: '${param}.input_audio.${field}'.`,
            "missing_required_parameter",
          );
        }
      }
      wireOnly.push({ param, what: "an input_audio part", unread: true });
      return;
    }
    default:
      return;
  }
}

/**
 * How many content parts of these items carry bytes inline that classification cannot read (an
 * `input_file` with `file_data`, an `input_audio`): for stored items a request sends again (its
 * history, the items it references), which are not named in `wireOnly` (NativeRequest.unread).
 */
export function countUnreadParts(items: Iterable<StateItem>): number {
  let count = 0;
  for (const item of items) {
    const parts = item.type === "message" ? item.content : item.type === "function_call_output" ? item.output : undefined;
    if (!Array.isArray(parts)) continue;
    for (const part of parts as Array<Record<string, unknown> | null>) {
      if (part?.type === "input_audio" || (part?.type === "input_file" && nonEmpty(part.file_data))) count++;
    }
  }
  return count;
}

function nonEmpty(value: unknown): boolean {
  return typeof value === "string" && value !== "";
}

function optionalString(part: Record<string, unknown>, param: string, field: string): void {
  const value = part[field];
  if (value === undefined || value === null || typeof value === "string") return;
  throw invalidParam(
    `${param}.${field}`,
    `Invalid type for '${param}.${field}': expected a string, but got ${typeOf(value)} instead.`,
    "invalid_type",
  );
}
