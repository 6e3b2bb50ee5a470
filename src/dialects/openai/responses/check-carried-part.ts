import { imageSource } from "../convert-from-openai-messages.js";
import { invalidParam } from "../state/index.js";

/**
 * What POST /v1/responses cannot carry to its targets, checked on each content part of the input
 * (the one normaliser in ../state does the rest): an image needs an https or `data:` URL (there is no
 * Files API for `file_id` yet), and `input_file`/`input_audio` parts are refused, as for chat completions.
 */
export function checkCarriedPart(part: Record<string, unknown>, param: string): void {
  switch (part.type) {
    case "input_image": {
      if (typeof part.image_url !== "string" || part.image_url === "") {
        throw invalidParam(
          `${param}.image_url`,
          `Invalid value for '${param}.image_url': ${
            part.file_id != null
              ? "images by file_id are not supported (tandem has no Files API yet); send image_url as an https or data: URL"
              : "expected image_url (an https or data: URL)"
          }.`,
        );
      }
      imageSource(part.image_url, `${param}.image_url`);
      return;
    }
    case "input_file":
    case "input_audio":
      throw invalidParam(
        `${param}.type`,
        `Invalid value for '${param}.type': content parts of type '${part.type}' are not supported; send input_text or input_image.`,
        "unsupported_value",
      );
    default:
      return;
  }
}
