// Import rules for src/, checked by test/architecture.test.ts in npm test (and by
// `npx depcruise src` on node 22 or later): no import cycle, and the folder layering of
// ARCHITECTURE.md. A layer imports only the layers below it; the stages that share a layer are
// independent of each other. Type-only imports count: a cycle through types is still a cycle.

/** Highest first. Each layer's stages are path patterns. */
const LAYERS = [
  { name: 'entry', stages: ['^src/(server|app)\\.ts$', '^src/cli/'] }, // the HTTP server; the offline CLI
  { name: 'http', stages: ['^src/http/'] }, // Fastify plumbing and routes
  { name: 'engine', stages: ['^src/(engine|scorer)\\.ts$'] }, // the data path without HTTP
  { name: 'prep', stages: ['^src/prep/'] }, // the Preparer: what a request needs before the model
  { name: 'queue-and-prompt', stages: ['^src/batch/', '^src/prompt/'] },
  { name: 'model-and-checkers', stages: ['^src/model/', '^src/extract/', '^src/pysyntax/', '^src/localization/', '^src/shape/'] },
  { name: 'shared', stages: ['^src/python/', '^src/(config|errors|log|metrics|thread-stop|worker-supervisor|worker-thread)\\.ts$'] },
];

const layerRules = LAYERS.flatMap(({ name, stages }, i) => {
  const above = LAYERS.slice(0, i).flatMap((l) => l.stages);
  const upward = above.length === 0 ? [] : [{
    name: `${name}-imports-downward`,
    comment: `${stages.join(', ')} may not import a layer above it (${above.join(', ')})`,
    severity: 'error',
    from: { path: stages },
    to: { path: above },
  }];
  // Stages of one layer do not import each other (the shared helpers of the lowest layer may).
  const across = i === LAYERS.length - 1 ? [] : stages.map((stage) => ({
    name: `${stage.replace(/^\^src\//, '').replace(/[^a-z-]+/g, '-').replace(/^-+|-+$/g, '')}-independent-of-its-layer`,
    comment: `${stage} may not import the other stages of its layer`,
    severity: 'error',
    from: { path: stage },
    to: { path: stages.filter((other) => other !== stage) },
  })).filter((rule) => rule.to.path.length > 0);
  return [...upward, ...across];
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import cycle in src/ (type-only imports included)',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
