/** Source entry for running the CLI without a build (tests and development): `node --import tsx src/interfaces/cli/entry.ts`. */
import { main } from './main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code ?? 0;
  },
  (err: unknown) => {
    process.stderr.write(`tswarm: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
