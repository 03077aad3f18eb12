#!/usr/bin/env node
// The published entry: the bundled CLI in dist/ (built by `npm run build`, run on `npm install`).
const { main } = await import('../dist/cli.js');
process.exitCode = await main(process.argv.slice(2));
// After Ctrl-C, a step that cannot be stopped (a database connection still waiting for its
// timeout) must not keep the process alive: the exit was already reported.
if (process.exitCode === 130) setTimeout(() => process.exit(130), 100).unref();
