#!/usr/bin/env node
// The published entry: the bundled CLI in dist/ (built by `npm run build`, run on `npm install`).
import module from 'node:module';

// Node 22+ can keep the compiled bundle on disk between runs; Node 20 has no such cache.
//

const { main } = await import('../dist/cli.js');
process.exitCode = await main(process.argv.slice(2));
