export * from "./native-model-field.js";
export * from "./switch-comment.js";
export * from "./validate.js";
