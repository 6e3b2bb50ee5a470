/**
 * tandem's dependency rules (docs/architecture.md). `npm test` runs them; a wrong import fails with
 * the rule's name and comment. There are no known exceptions: every violation fails.
 */
module.exports = {
  forbidden: [
    {
      name: "core-imports-nothing",
      comment: "core/ holds the contracts every part speaks: pure types and helpers, no other folder of tandem.",
      severity: "error",
      from: { path: "^src/core/" },
      to: { path: "^src/", pathNot: "^src/core/" },
    },
    {
      name: "dialects-are-codecs",
      comment:
        "A dialect is a codec plus a route table: it never calls a provider directly, never reaches into the server that mounts it, and speaks to the gateway through the contract in core.",
      severity: "error",
      from: { path: "^src/dialects/" },
      to: { path: "^src/(server|providers|router|store)/" },
    },
    {
      name: "providers-know-no-dialect-or-router",
      comment: "A provider never knows which dialect the client spoke, nor how the router uses it.",
      severity: "error",
      from: { path: "^src/providers/" },
      to: { path: "^src/(dialects|router|server)/" },
    },
    {
      name: "router-is-wire-agnostic",
      comment: "The router works on the canonical form: it never imports a dialect or the HTTP server.",
      severity: "error",
      from: { path: "^src/router/" },
      to: { path: "^src/(dialects|server)/" },
    },
    {
      name: "harness-below-server",
      comment: "The harness keeps state for any dialect; it does not import dialects or the server.",
      severity: "error",
      from: { path: "^src/harness/" },
      to: { path: "^src/(dialects|server)/" },
    },
    {
      name: "src-never-imports-tests",
      comment: "Shipped code never imports test code or the bench.",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(test|bench)/" },
    },
    {
      name: "no-circular",
      comment: "Cycles make the layers meaningless.",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
