#!/usr/bin/env node
// Committed so that npm can link the `herald` binary before the TypeScript is built.
import { main } from '../dist/cli/main.js';

await main(process.argv);
