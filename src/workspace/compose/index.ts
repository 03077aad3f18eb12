export { editCompose, inspectCompose } from './edit.ts';
export type { ComposeEdit } from './fast-index.ts';
export type { ComposeInfo } from './model.ts';
