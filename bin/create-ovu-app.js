#!/usr/bin/env node
// The published entry: the bundled CLI in dist/ (built by `npm run build`, run on `npm install`).
import { main } from '../dist/cli.js';

process.exitCode = await main(process.argv.slice(2));
