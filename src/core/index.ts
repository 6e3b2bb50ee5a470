export * from "./errors.js";
export * from "./forwarding.js";
export * from "./ids.js";
export * from "./messages.js";
export * from "./network-errors.js";
export * from "./request.js";
export * from "./result.js";
export * from "./stream.js";
