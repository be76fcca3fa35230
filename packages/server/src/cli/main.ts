import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError } from './config-error.js';
import { registerPgCommands } from './pg-command.js';
import { registerServeCommand } from './serve-command.js';
import { registerTokenCommand } from './token-command.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Builds the `herald` command line: `serve`, `token` and `pg`. */
export function buildProgram(): Command {
  const program = new Command('herald').description('Herald real-time hub').version(version());
  registerServeCommand(program);
  registerPgCommands(program);
  registerTokenCommand(program);
  return program;
}

/** Entry point of the `herald` binary: a bad setting prints `herald: <what is wrong>` and exits with 2. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof TypeError) {
      const lines = error.message.replace(/^herald: /, '').split('\n');
      process.stderr.write(lines.map((line) => `herald: ${line}\n`).join(''));
      process.exit(2);
    }
    throw error;
  }
}
