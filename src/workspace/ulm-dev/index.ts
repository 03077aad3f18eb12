/**
 * The development ULM, a derived kind (workspace/derived.ts): while an app of the workspace points
 * at it (its ULM URL is ULM_DEV_URL, the default where the compose project has no ULM service),
 * `ulm-dev/` holds a zero-dependency Node server with the part of ULM's API the apps call
 * (schema/ulm-contract.openapi.yaml), the users and tokens it serves (users.json, the team's to
 * edit: kept as it is once written), a README, and compose.yaml with the `ovu-ulm-dev` service
 * (included from apps.compose.yaml). Development only: the Kubernetes manifests never name it.
 */
import path from 'node:path';
import type { DerivedContext, DerivedFile } from '../derived.ts';
import { parse } from 'yaml';
import { APPS_COMPOSE_FILE, DB_INIT_SERVICE, isObj, networkNames, type Obj } from '../compose/model.ts';
import { DEFAULT_STYLE, FlowList, Quoted, blockLines, type YMap } from '../compose/render.ts';
import { templateLayerSync } from '../../stacks/template-source.ts';
import { ULM_DEV_COMPOSE_FILE, ULM_DEV_DIR, ULM_DEV_PORT, ULM_DEV_SERVICE, usesUlmDev } from './names.ts';

export * from './names.ts';

/** Whether apps.compose.yaml includes ulm-dev/compose.yaml. */
export function includesUlmDev(apps: { spec: { settings: { ulmUrl: string } } }[]): boolean {
  return apps.some((a) => usesUlmDev(a.spec.settings.ulmUrl));
}

const USERS_FILE = `${ULM_DEV_DIR}/users.json`;

/**
 * The named networks the crud apps reach their database on (ovu-db-init's in apps.compose.yaml,
 * which joins the database service's): an app on those only must reach the development ULM there too.
 */
function appNetworks(ctx: DerivedContext): string[] {
  const text = ctx.read(path.join(ctx.root, APPS_COMPOSE_FILE));
  const js = text === undefined ? undefined : (parse(text) as Obj | null);
  const init = isObj(js) && isObj(js['services']) ? js['services'][DB_INIT_SERVICE] : undefined;
  const named = isObj(init) ? networkNames(init['networks']) : [];
  // Readonly apps have no database and stay on the project's default network: join it too.
  return named.length && !named.includes('default') ? [...named, 'default'] : named;
}

function composeText(networks: string[]): string {
  const svc: YMap = {
    image: 'node:22-alpine',
    working_dir: '/ulm-dev',
    command: new FlowList([new Quoted('node'), new Quoted('server.mjs')]),
    volumes: ['./:/ulm-dev:ro'],
    environment: { HOST: '0.0.0.0', PORT: String(ULM_DEV_PORT), ULM_SERVICE_TOKEN: '${ULM_SERVICE_TOKEN:-}' },
    ports: [new Quoted(`127.0.0.1:${ULM_DEV_PORT}:${ULM_DEV_PORT}`)],
    healthcheck: {
      test: new FlowList(['CMD', 'node', '-e', `fetch('http://127.0.0.1:${ULM_DEV_PORT}/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`].map((a) => new Quoted(a))),
      interval: '5s',
      timeout: '3s',
      retries: 5,
    },
    ...(networks.length ? { networks } : {}),
  };
  return [
    `# ${ULM_DEV_COMPOSE_FILE}: written by create-ovu-app from the apps in this workspace; do not edit.`,
    '# DEVELOPMENT ONLY: a stand-in for ULM (see ulm-dev/README.md), used while this workspace has no ULM service.',
    ...blockLines({ services: { [ULM_DEV_SERVICE]: svc } }, 0, DEFAULT_STYLE),
  ].join('\n') + '\n';
}

export const ulmDevKind = (ctx: DerivedContext): DerivedFile[] => {
  const files = new Map(templateLayerSync('ulm-dev/common').map((f) => [`${ULM_DEV_DIR}/${f.path}`, f.render({})]));
  const wanted = includesUlmDev(ctx.apps);
  const usersNow = ctx.read(path.join(ctx.root, USERS_FILE));
  const out: DerivedFile[] = [{ path: ULM_DEV_COMPOSE_FILE, text: wanted ? composeText(appNetworks(ctx)) : undefined }];
  for (const [file, text] of files) {
    if (file === USERS_FILE) {
      // The team's users: written once; when no app needs them any more, removed only if unchanged.
      out.push({ path: file, text: wanted ? (usersNow ?? text) : usersNow !== undefined && usersNow !== text ? usersNow : undefined });
    } else out.push({ path: file, text: wanted ? text : undefined });
  }
  return out;
};
