import type { NodePlopAPI } from 'node-plop';
import appGenerator from './generators/app.ts';

// `npx plop app` (plop 4 needs Node >= 22.18, or NODE_OPTIONS='--import tsx' on Node 20, to load
// a TypeScript plopfile). The CLI and this generator share one schema and one staged plan.
export default function plopfile(plop: NodePlopAPI): void {
  appGenerator(plop);
}
