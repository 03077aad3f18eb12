/**
 * Names the workspace's Kubernetes manifests share (the app's templates, the derived files in
 * deploy/k8s/, doctor), kept apart from k8s.ts so the modules of deploy/k8s/ can import them both ways.
 */
import { Document } from 'yaml';
import path from 'node:path';
import type { AppSpec } from '../../app/spec.ts';
import type { DerivedApp, DerivedContext } from '../derived.ts';

/** A --pgbouncer app's CloudNativePG Poolers; each one's Service has its name. `rw` writes, `ro` reads from the replicas. */
export const poolerName = (spec: AppSpec, type: 'rw' | 'ro'): string => `${spec.names.slug}-pooler-${type}`;

/** The Secret (keys ACCESS_KEY_ID, ACCESS_SECRET_KEY) the backups upload with: the team makes it. */
export const BACKUP_S3_SECRET = 'ovu-backup-s3';

/** The bucket ADR-002's example uploads to (s3://ovu-backups/<app>/); an overlay changes it. */
export const BACKUP_BUCKET = 'ovu-backups';

const manifestText = (doc: unknown): string => new Document(doc).toString({ lineWidth: 0 });

/** Several manifests in one file, a comment on top. */
export function manifestsFile(header: string[], docs: unknown[]): string {
  const top = header.map((l) => (l ? `# ${l}` : '#')).join('\n');
  return `${top}\n${docs.map(manifestText).join('---\n')}`;
}

export const DERIVED_NOTE = [
  "Written by create-ovu-app from the workspace's apps; every `new` and `remove` writes it again.",
  'Change it through an overlay of your own (resources: [../k8s] plus patches), not here.',
];

/** The app directories a workspace kustomization we wrote lists (undefined: there is none). */
export function listedIn(text: string | undefined): Set<string> | undefined {
  if (text === undefined) return undefined;
  const dirs = new Set<string>();
  for (const m of text.matchAll(/^ {2}- \.\.\/\.\.\/(.+)\/deploy\/k8s$/gm)) dirs.add(m[1]!);
  return dirs;
}

/**
 * The crud apps that have their own deploy/k8s/ (k8s.ts lists only those; an app made before has
 * none). A run that changes one app takes them from the workspace kustomization the k8s kind (first
 * in DERIVED) has just staged, rather than reading every app's; doctor reads every app's.
 */
export function crudWithManifests(ctx: DerivedContext): DerivedApp[] {
  const listed = ctx.changed === undefined ? undefined : listedIn(ctx.read(path.join(ctx.root, 'deploy', 'k8s', 'kustomization.yaml')));
  const hasOwn = (a: DerivedApp): boolean => (listed ? listed.has(a.dir) : ctx.read(path.join(ctx.root, a.dir, 'deploy', 'k8s', 'kustomization.yaml')) !== undefined);
  return ctx.apps.filter((a) => a.spec.settings.kind === 'crud' && hasOwn(a));
}
