export * from "./answer-limits.js";
export * from "./bearer-headers.js";
export * from "./ndjson.js";
export * from "./refused-settings.js";
export * from "./sse.js";
export * from "./upstream-body.js";
export * from "./upstream-client.js";
export * from "./upstream-error.js";
export { editedNativeBody, JsonText } from "./upstream-json.js";
