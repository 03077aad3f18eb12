import path from 'node:path';
import type { AppSpec } from '../app/spec.ts';
import { STACKS } from '../stacks/index.ts';
import type { Toolchain } from '../stacks/stack.ts';
import { installHint } from '../stacks/tools.ts';
import { shellWords } from '../stacks/stack.ts';
import type { Workspace } from '../workspace/workspace.ts';
import { suggestCommand, type Invocation } from './suggest.ts';
import { ULM_DEV_DIR, ULM_DEV_LOCAL_URL, ULM_DEV_SERVICE, ULM_DEV_TOKEN, usesUlmDev } from '../workspace/ulm-dev/names.ts';

export interface Progress {
  installed: boolean;
  provisioned: boolean;
  migrated: boolean;
}

interface Step {
  command: string;
  /** Shown after it as a shell comment. */
  comment?: string;
  /** What running it needs besides (PGPASSWORD): shown after it, also in a one-line continuation. */
  needs?: string;
}

/** The server a new app's backend/.env points at (localhost:5432), as its superuser would reach it. */
const LOCAL_ADMIN_URL = 'postgresql://postgres@localhost:5432/postgres';

/** What is left of setting the app up (install, provision, migrate), from the current directory on. */
function setupSteps(spec: AppSpec, ws: Workspace, backendDir: string, done: Progress, tools: Toolchain, invoked: Invocation): Step[] {
  const stack = STACKS[spec.settings.stack];
  const steps: Step[] = [{ command: `cd ${shellWords([path.relative(process.cwd(), backendDir) || '.'])}` }];
  if (!done.installed) steps.push({ command: installHint(stack, tools) });
  if (spec.settings.kind === 'crud') {
    if (!done.provisioned) {
      // From backend/, the nearest compose file is the app's own compose.yaml: name the workspace.
      // provision touches only a server the person names: when this run was given none, the command
      // names the one backend/.env points at (the compose database published on this machine), so
      // it runs as printed and says which server it changes.
      const named = invoked.adminUrl ? invoked : { ...invoked, adminUrl: LOCAL_ADMIN_URL };
      let provision = suggestCommand(named, ['provision', spec.names.slug, '--migrate'], { workspace: path.relative(backendDir, ws.root), adminUrl: true });
      if (!invoked.adminUrl) provision += "   # with PGPASSWORD set to the database's superuser password (its POSTGRES_PASSWORD)";
      const [command, needs] = provision.split(/ {3}# /);
      steps.push({ command: command!, comment: `creates ${spec.names.db} and ${spec.names.user}, then migrates`, ...(needs ? { needs } : {}) });
    } else if (!done.migrated) {
      const [command, comment] = stack.migrateHint(tools).split(/ {3}# /);
      steps.push({ command: command!, ...(comment ? { comment } : {}) });
    }
  }
  return steps;
}

/** Where the apps' routes live (the items and users routes of both stacks). */
export const API_PREFIX = '/api/v1';

/**
 * The app run on the machine, then one request that answers 200: with the development ULM (started
 * beside it) and one of its seeded tokens, or with a token of the workspace's own ULM.
 */
function requestSteps(spec: AppSpec, ws: Workspace, backendDir: string, tools: Toolchain): Step[] {
  const { port, ulmUrl, kind } = spec.settings;
  const run = STACKS[spec.settings.stack].runHint(tools, port);
  const route = kind === 'crud' ? `${API_PREFIX}/items` : `${API_PREFIX}/users/u-1`;
  const url = `http://localhost:${port}${route}`;
  const what = kind === 'crud' ? 'the items' : 'the user';
  if (usesUlmDev(ulmUrl)) {
    const server = path.relative(backendDir, path.join(ws.root, ULM_DEV_DIR, 'server.mjs'));
    return [
      { command: `node ${shellWords([server])} & ${run}`, comment: `the development ULM (${ULM_DEV_LOCAL_URL}) in the background, then the app on port ${port}` },
      { command: `curl -H ${shellWords([`Authorization: Bearer ${ULM_DEV_TOKEN}`])} ${url}`, comment: `from another terminal: 200 with ${what} (${ULM_DEV_TOKEN} is a development token of ${ULM_DEV_DIR}/users.json)` },
    ];
  }
  return [
    { command: run, comment: `the app on port ${port}, with ULM at the ULM_BASE_URL of backend/.env` },
    { command: `curl -H "Authorization: Bearer $ULM_TOKEN" ${url}`, comment: `from another terminal, with ULM_TOKEN a token your ULM accepts: 200 with ${what}` },
  ];
}

/**
 * The commands to type next, for what is not done yet: the first from the current directory, the
 * rest from the app's backend directory it changes into.
 */
export function nextSteps(spec: AppSpec, ws: Workspace, backendDir: string, done: Progress, tools: Toolchain, invoked: Invocation): string[] {
  const stack = STACKS[spec.settings.stack];
  const steps = setupSteps(spec, ws, backendDir, done, tools, invoked);
  steps.push({ command: stack.testHint(tools) });
  steps.push(...requestSteps(spec, ws, backendDir, tools));
  const composeRel = path.relative(backendDir, ws.composeFile);
  const docker = `docker compose -f ${shellWords([composeRel])} up --build ${spec.names.service}`;
  const open = `then open http://localhost:${spec.settings.port}${stack.docsPath}`;
  steps.push({ command: docker, comment: usesUlmDev(spec.settings.ulmUrl) ? `or all of it in Docker, ${ULM_DEV_SERVICE} included; ${open}` : open });
  return steps.map((s) => {
    const notes = [s.comment, s.needs].filter(Boolean);
    return notes.length ? `${s.command}   # ${notes.join('; ')}` : s.command;
  });
}

/** One command line that finishes setting the app up from where a run stopped: `cd … && … && …`. */
export function continueCommand(spec: AppSpec, ws: Workspace, backendDir: string, done: Progress, tools: Toolchain, invoked: Invocation): string {
  const steps = setupSteps(spec, ws, backendDir, done, tools, invoked);
  const needs = steps.flatMap((s) => (s.needs ? [s.needs] : []));
  return steps.map((s) => s.command).join(' && ') + (needs.length ? `   # ${needs.join('; ')}` : '');
}
