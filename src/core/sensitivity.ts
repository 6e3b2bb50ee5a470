/**
 * How sensitive a request is. `public` may go anywhere; `internal` is organisation-only material
 * (code names, keywords the user configured); `private` is personal data or secrets.
 */
export type Sensitivity = "public" | "internal" | "private";
