import type { FilePart, ImagePart } from "../core/index.js";
import { type ImageSize, imageSizeOfBase64 } from "./image-size.js";

/**
 * How a target's upstream is given images and documents, which decides what they cost in its
 * context: whose image pricing applies, and whether a PDF goes whole (a document the upstream reads
 * as its text and an image of each page) or as its extracted text alone. Read from the wires the
 * target speaks (router/target-fit.ts mediaRulesFor), never from its kind.
 */
export interface MediaRules {
  /** Anthropic's (by area, Claude's resizing) or OpenAI's (512-pixel tiles); any other upstream is estimated as OpenAI's. */
  images: "anthropic" | "openai";
  /** A PDF is sent as a document (Anthropic `document`, OpenAI `file` / `input_file`), not as its text. */
  documentsWhole: boolean;
}

/** The rules when no target is known: OpenAI's image pricing, documents as their text. */
export const DEFAULT_MEDIA_RULES: MediaRules = { images: "openai", documentsWhole: false };

/** Anthropic: about width × height / 750 tokens an image. */
const ANTHROPIC_PIXELS_PER_TOKEN = 750;
/** Anthropic scales an image whose long edge is over 1568 pixels down to it... */
const ANTHROPIC_MAX_EDGE = 1568;
/** ...and one over about 1,600 tokens (about 1.15 megapixels) down to that: the most an image costs. */
const ANTHROPIC_MAX_IMAGE_TOKENS = 1600;

/** OpenAI: a `low` detail image is a flat 85 tokens; a `high` one 85 plus 170 for each 512-pixel tile. */
const OPENAI_BASE_TOKENS = 85;
const OPENAI_TILE_TOKENS = 170;
const OPENAI_TILE = 512;
/** OpenAI fits a `high` image in a 2048-pixel square, then scales its shorter side down to 768. */
const OPENAI_MAX_EDGE = 2048;
const OPENAI_SHORT_EDGE = 768;

/**
 * An image whose size tandem cannot read (by URL: the upstream fetches it) is taken as a 1024×1024
 * one: at Anthropic 1,399 tokens (width × height / 750), at OpenAI `high` detail 4 tiles (765).
 * Most photos and screenshots are at least that large; an estimate errs on the large side, so a
 * fitted conversation is not refused for length.
 */
const UNKNOWN_IMAGE: ImageSize = { width: 1024, height: 1024 };

/**
 * The most one image costs at either vendor after its resizing (Anthropic's cap; OpenAI's largest
 * `high` image, 768×2048, is 8 tiles: 1,445): a bound for a cheap check that needs no image decoded.
 */
export const MAX_IMAGE_TOKENS = ANTHROPIC_MAX_IMAGE_TOKENS;

/**
 * A PDF page as the upstream sees it, besides its text: Anthropic renders each page as an image and
 * prices it as one (a page image reaches its 1,600-token cap); OpenAI gives a vision model an image
 * of each page too, taken here as a `high` image of a letter page (768×994: 4 tiles, 765 tokens).
 */
const PAGE_IMAGE_TOKENS = { anthropic: ANTHROPIC_MAX_IMAGE_TOKENS, openai: 765 } as const;

/** The tokens an image costs at the target's vendor, from its size when its bytes are inline. */
export function imageTokens(part: ImagePart, rules: MediaRules): number {
  const size = inlineImageSize(part) ?? UNKNOWN_IMAGE;
  return rules.images === "anthropic" ? anthropicImageTokens(size) : openAIImageTokens(size, part.detail);
}

/** Anthropic's vision pricing: width × height / 750, after scaling the long edge to 1568 and capping at about 1,600. */
export function anthropicImageTokens({ width, height }: ImageSize): number {
  const scale = Math.min(1, ANTHROPIC_MAX_EDGE / Math.max(width, height));
  const area = Math.round(width * scale) * Math.round(height * scale);
  return Math.min(ANTHROPIC_MAX_IMAGE_TOKENS, Math.ceil(area / ANTHROPIC_PIXELS_PER_TOKEN));
}

/**
 * OpenAI's vision pricing (GPT-4o family): `low` is 85 flat; `high`, `auto` (OpenAI picks, taken as
 * `high`) and `original` are 85 + 170 per 512-pixel tile of the image fitted in 2048×2048 with its
 * shorter side at most 768.
 */
export function openAIImageTokens({ width, height }: ImageSize, detail: ImagePart["detail"]): number {
  if (detail === "low") return OPENAI_BASE_TOKENS;
  let w = width;
  let h = height;
  const fit = Math.min(1, OPENAI_MAX_EDGE / Math.max(w, h));
  w *= fit;
  h *= fit;
  const shorten = Math.min(1, OPENAI_SHORT_EDGE / Math.min(w, h));
  w = Math.floor(w * shorten);
  h = Math.floor(h * shorten);
  const tiles = Math.ceil(w / OPENAI_TILE) * Math.ceil(h / OPENAI_TILE);
  return OPENAI_BASE_TOKENS + OPENAI_TILE_TOKENS * tiles;
}

/** An inline image's size: base64 bytes, or a `data:` URL (how OpenAI clients send one). */
function inlineImageSize(part: ImagePart): ImageSize | undefined {
  const source = part.source;
  if (source.kind === "base64") return imageSizeOfBase64(source.data);
  const match = /^data:[^;,]*;base64,/.exec(source.url);
  return match ? imageSizeOfBase64(source.url.slice(match[0].length)) : undefined;
}

/**
 * The tokens a file part costs besides the text counted for it: for a PDF sent whole, an image of
 * each of its pages; nothing for a file sent as its text.
 */
export function documentPageTokens(part: FilePart, rules: MediaRules): number {
  if (!sentWhole(part, rules)) return 0;
  return pdfPageCount(part.data) * PAGE_IMAGE_TOKENS[rules.images];
}

/** Whether the target is given the file itself (a PDF to a wire that takes documents), not its text. */
export function sentWhole(part: FilePart, rules: MediaRules): boolean {
  return rules.documentsWhole && part.mediaType === "application/pdf";
}

/**
 * How many pages a PDF has, from its page objects (`/Type /Page`); where those are packed in
 * compressed object streams, the largest `/Count` of a page tree node; else one page (also for a
 * document given by URL or file id, whose bytes tandem does not have).
 */
export function pdfPageCount(base64: string): number {
  if (base64 === "") return 1;
  const text = Buffer.from(base64, "base64").toString("latin1");
  const pages = text.match(/\/Type\s*\/Page(?![A-Za-z])/g)?.length ?? 0;
  if (pages > 0) return pages;
  let most = 0;
  for (const match of text.matchAll(/\/Count\s+(\d+)/g)) most = Math.max(most, Number(match[1]));
  return Math.max(1, most);
}
