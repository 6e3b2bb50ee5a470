import type { z } from "zod";
import { checkResponseSchema, type ReasoningControl, type ResponseFormat } from "../../../core/index.js";
import type { reasoningEffortSchema, textFormatSchema } from "./responses-api.js";

/** The effort as the canonical reasoning control (a level a target's wire lacks is named by its provider). */
export function reasoningControl(effort: z.output<typeof reasoningEffortSchema>): ReasoningControl {
  return effort === "none" ? { enabled: false } : { enabled: true, effort };
}

/** A `text.format` as the canonical response format. */
export function responseFormat(format: z.output<typeof textFormatSchema>): ResponseFormat {
  switch (format.type) {
    case "text":
      return { type: "text" };
    case "json_object":
      return { type: "json" };
    case "json_schema":
      checkResponseSchema(format.schema, "text.format");
      return {
        type: "json_schema",
        schema: format.schema,
        name: format.name,
        ...(format.strict != null && { strict: format.strict }),
        param: "text.format",
      };
  }
}
