/**
 * `tswarm`: the command-line adapter over the core. Each file in ./commands registers its own subcommands
 * (so teams working on different agents never edit one shared list); heavy modules load lazily inside actions
 * so that `tswarm --version` and `--help` stay instant.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { CliError } from './util.js';

export interface CommandModule {
  register(program: Command): void;
}

function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'telemetry-swarm') return pkg.version ?? '0.0.0';
    } catch {
      /* keep walking up */
    }
    dir = dirname(dir);
  }
  return '0.0.0';
}

export async function buildProgram(): Promise<Command> {
  const program = new Command('tswarm')
    .description('telemetry-swarm: production telemetry in, quality feedback out (QCSD Production Telemetry Swarm)')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'commands');
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    /* no command modules built yet */
  }
  const files = entries
    .filter((f) => /\.(js|ts)$/.test(f) && !/\.(test|d)\.(js|ts)$/.test(f))
    .sort();
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as Partial<CommandModule>;
    if (typeof mod.register === 'function') mod.register(program);
  }
  return program;
}

/** Runs the CLI and resolves to the process exit code. Errors are one clear line, never a stack trace. */
export async function main(argv: string[]): Promise<number> {
  // `tswarm ... | head` closes the pipe early: that is the reader being done, not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const program = await buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version print and "fail" with code 0
      return err.exitCode;
    }
    if (err instanceof CliError) {
      process.stderr.write(`tswarm: ${err.message}\n`);
      return err.exitCode;
    }
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`tswarm: ${msg}\n`);
    if (process.env.TSWARM_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    return 1;
  }
}
