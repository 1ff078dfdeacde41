#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run by `npm ci` through `prepare`).
import { main } from '../dist/src/interfaces/cli/main.js';

main(process.argv).then(
  (code) => { process.exitCode = code ?? 0; },
  (err) => {
    process.stderr.write(`tswarm: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
