import type { WireOnly } from "../../../core/index.js";
import type { StateItem } from "../../../core/state.js";
import { imageSource } from "../convert-from-openai-messages.js";
import { isFileData } from "../files/file-resolver.js";
import { invalidParam, typeOf } from "../state/index.js";

/**
 * Parts named by a `file_id`, each with its `wireOnly` entry: when tandem's Files API has the file,
 * the part is given to any target (files/file-resolver.ts) and the entry is dropped; else the id is
 * the upstream's, and only a Responses-native target can be sent it.
 */
export type FileReferences = Map<WireOnly, string>;

/**
 * What POST /v1/responses cannot carry to every target, checked on each content part of the input
 * (the one normaliser in ../state does the rest). An image needs an https or `data:` URL, or a
 * `file_id`. An `input_file` with its bytes inline (`file_data`) is given to any target as text,
 * an image or a document (files/file-resolver.ts). Parts with no canonical form — an `input_file`
 * by `file_url`, `input_audio`, and a part by a `file_id` tandem may not have (`references`) — are
 * kept as they came and named in `wireOnly` by their param (`input[0].content[1]`), as chat
 * completions names its `input_audio` parts: only a Responses-native target can be sent them
 * (router/target-fit.ts), and one that carries bytes inline is `unread` (privacy classification
 * counts it as an image). A reference (`file_id`, `file_url`) sends nothing new.
 */
export function checkCarriedPart(
  part: Record<string, unknown>,
  param: string,
  wireOnly: WireOnly[],
  references: FileReferences = new Map(),
): void {
  switch (part.type) {
    case "input_image": {
      if (typeof part.image_url !== "string" || part.image_url === "") {
        if (typeof part.file_id === "string" && part.file_id !== "") {
          const entry = { param, what: "an input_image part by file_id" };
          wireOnly.push(entry);
          references.set(entry, part.file_id);
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
      if (nonEmpty(part.file_data)) {
        if (!isFileData(part.file_data as string)) {
          throw invalidParam(
            `${param}.file_data`,
            `Invalid value for '${param}.file_data': expected the file's bytes as a base64 data: URL (data:application/pdf;base64,...).`,
          );
        }
        return;
      }
      const entry = { param, what: "an input_file part" };
      wireOnly.push(entry);
      if (nonEmpty(part.file_id)) references.set(entry, part.file_id as string);
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
 * `input_audio`; an `input_file`'s bytes are given to every target, and classified there): for
 * stored items a request sends again (its history, the items it references), which are not named
 * in `wireOnly` (NativeRequest.unread).
 */
export function countUnreadParts(items: Iterable<StateItem>): number {
  let count = 0;
  for (const item of items) {
    const parts = item.type === "message" ? item.content : item.type === "function_call_output" ? item.output : undefined;
    if (!Array.isArray(parts)) continue;
    for (const part of parts as Array<Record<string, unknown> | null>) {
      if (part?.type === "input_audio") count++;
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
