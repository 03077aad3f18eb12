import fs from 'node:fs';

// The bundler replaces __OVU_VERSION__ with package.json's version; the unbundled sources (tests,
// plop) read package.json instead.
declare const __OVU_VERSION__: string | undefined;

function readVersion(): string {
  if (typeof __OVU_VERSION__ === 'string') return __OVU_VERSION__;
  const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export const VERSION = readVersion();
