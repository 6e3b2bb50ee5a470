import { z } from "zod";
import { parseKeyRef } from "./key-ref.js";

/** A key reference in a config file: `env:NAME`, `keychain:NAME` or `store:NAME`; literal keys never go in a file. */
export const keyRefSchema = z.string().refine((s) => parseKeyRef(s) !== undefined, {
  message: "expected a key reference 'env:NAME', 'keychain:NAME' or 'store:NAME' (never a literal key)",
});
