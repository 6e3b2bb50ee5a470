/** The dialects' toolkit: the dialect contract, route tables, and the response writers every dialect uses. */
export * from "./client-signal.js";
export * from "./dialect.js";
export * from "./loopback.js";
export * from "./meta-headers.js";
export * from "./native-frame.js";
export * from "./request-record.js";
export * from "./respond.js";
export * from "./route-table.js";
export * from "./route-tools-choice.js";
export * from "./switch-comment.js";
export * from "./uncarried-parts.js";
export * from "./validate.js";
