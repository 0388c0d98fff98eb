// Import rules of docs/architecture.md "Rooms". Checked by test/unit/import-rules.test.ts (part of npm test),
// which also fails on any cycle between top-level folders of src/; `npx depcruise src --config` shows them too.
const APP = '^src/(stratum|jobs|upstream|ledger|work|sim|events|transports|pow|config|cli|http|admin|metrics|eventapi|dashboard|operations|bans|threads)/';
module.exports = {
  forbidden: [
    {
      name: 'transports-know-no-pow',
      comment: 'Transports carry lines; proof of work, sessions, jobs and the node are above them.',
      severity: 'error',
      from: { path: '^src/transports/' },
      to: { path: '^src/(pow|stratum|jobs|upstream|ledger|work|sim)/' },
    },
    {
      name: 'pow-knows-no-sockets',
      comment: 'PoW code verifies bytes; it never opens, reads or writes a socket.',
      severity: 'error',
      from: { path: '^src/pow/' },
      to: {
        path: ['^src/(transports|stratum|upstream|http|sim)/', '^(net|tls|dgram|http|https|http2)$', '^node:(net|tls|dgram|http|https|http2)$', 'node_modules/(ws|mqtt|aedes)/'],
      },
    },
    {
      name: 'protocol-is-only-the-wire',
      comment: 'The wire codec imports nothing of the application (transports, upstream, sim and stratum all use it).',
      severity: 'error',
      from: { path: '^src/protocol/' },
      to: { path: APP },
    },
    {
      name: 'production-never-imports-the-simulator',
      comment: 'The simulated node and reference clients are test and demo equipment; only the CLI starts them.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(sim|cli)/' },
      to: { path: '^src/sim/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Packages whose "exports" offer only `types`/`default` (aedes) must resolve as Node resolves them.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
