export * from "./switch-comment.js";
export * from "./validate.js";
