/**
 * The Kubernetes manifests `new` writes, as `kubectl apply -k deploy/k8s` would send them: built
 * by the real kustomize (kubectl's), the core kinds through kubernetes-validate --strict, the
 * CloudNativePG kinds through their CRDs' schemas, and what ADR-002 and the generated apps need
 * checked against the sources that decide it (the stack table, the compose service's variables,
 * the connection budget, the Dockerfiles). No cluster runs here: what only one would show is in
 * the README's "Kubernetes" section.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseAnswersFile, ANSWERS_FILE } from '../../../src/app/answers-file.ts';
import { CONTAINER_PORT, specFromAnswers, type AppSpec } from '../../../src/app/spec.ts';
import { EXTRA_CONNECTIONS } from '../../../src/database/budget.ts';
import { DUMP_CONNECTIONS, k8sConnectionLimit } from '../../../src/workspace/k8s/budget.ts';
import { poolerName } from '../../../src/workspace/k8s/names.ts';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { STACKS } from '../../../src/stacks/index.ts';
import { TEMPLATES_DIR } from '../../../src/stacks/template-source.ts';
import { appService } from '../../../src/workspace/compose/model.ts';
import { CLUSTER_NAME, clusterMaxConnections, dbSecretName } from '../../../src/workspace/k8s.ts';
import { adrWorkspace, runMainInProcess } from '../../helpers/cli.ts';
import { cnpgProblems, coreProblems, isCnpg, isCore, kustomizeBuild, type Manifest } from '../../helpers/k8s.ts';

let ws: string;
let apps: AppSpec[];
let built: Manifest[];

/** Four apps, one of each stack and kind, with pools and processes that differ from the defaults. */
const APPS = [
  ['inventory', '--processes', '2'],
  ['orders', '--stack', 'typescript', '--db-pool-size', '3', '--db-max-overflow', '2', '--processes', '3', '--pgbouncer'],
  ['lookup', '--kind', 'readonly'],
  ['catalog', '--stack', 'typescript', '--kind', 'readonly', '--ulm-url', 'http://ulm.platform.svc:8000'],
];

beforeAll(async () => {
  ws = adrWorkspace();
  for (const args of APPS) expect(await runMainInProcess([...args, '--yes', '--workspace', ws])).toBe(0);
  apps = APPS.map(([name]) => specFromAnswers(parseAnswersFile(fs.readFileSync(path.join(ws, name!, ANSWERS_FILE), 'utf8'), name!).answers));
  built = await kustomizeBuild(path.join(ws, 'deploy', 'k8s'));
}, 120_000);

/** Fields a PrometheusRule's spec, groups and rules may have, from the declarations @kubernetes-models/prometheus-operator ships. */
function promRuleUnknownFields(m: Manifest): string[] {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.resolve('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule'))));
  const fields = (file: string) => new Set([...fs.readFileSync(path.join(dir, file), 'utf8').matchAll(/^\s*"(\w+)"\??:/gm)].map((x) => x[1]));
  const [spec, group, rule] = [fields('PrometheusRuleSpec.d.ts'), fields('RuleGroup.d.ts'), fields('Rule.d.ts')];
  const out = Object.keys(m.spec).filter((k) => !spec.has(k)).map((k) => `spec: ${k}`);
  (m.spec.groups as any[]).forEach((g, i) => {
    out.push(...Object.keys(g).filter((k) => !group.has(k)).map((k) => `groups/${i}: ${k}`));
    (g.rules as any[]).forEach((r, j) => out.push(...Object.keys(r).filter((k) => !rule.has(k)).map((k) => `groups/${i}/rules/${j}: ${k}`)));
  });
  return out.sort();
}

const of = (kind: string, name: string) => (m: Manifest) => m.kind === kind && m.metadata.name === name;
const container = (m: Manifest, name: string) => (m.spec.template.spec.containers as any[]).find((c) => c.name === name);

/** The uid the image's USER has, read from the app's Dockerfile template. */
function dockerfileUid(spec: AppSpec): number {
  // The kind's layer wins over common (src/stacks/render.ts).
  const file = [spec.settings.kind, 'common'].map((layer) => path.join(TEMPLATES_DIR, spec.settings.stack, layer, 'Dockerfile')).find((f) => fs.existsSync(f))!;
  const dockerfile = fs.readFileSync(file, 'utf8');
  const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
  const last = users.at(-1);
  const numeric = /^(\d+)(?::\d+)?$/.exec(last ?? '');
  if (numeric) return Number(numeric[1]);
  const made = /useradd [^\n]*--uid (\d+) (\S+)/.exec(dockerfile);
  if (made && made[2] === last) return Number(made[1]);
  // The official node images' user: uid 1000 (not readable from the Dockerfile itself).
  if (last === 'node' && /^FROM node:/m.test(dockerfile)) return 1000;
  throw new Error(`${spec.settings.stack}/${spec.settings.kind}/Dockerfile: no USER whose uid is known (${users.join(', ')})`);
}

/**
 * What ADR-002 and the generated apps need of the built manifests, as problems ([] = none):
 * checked the same way on what `new` wrote and on each mutation below.
 */
function policyProblems(manifests: Manifest[], specs: AppSpec[]): string[] {
  const problems: string[] = [];
  const say = (where: string, what: string) => problems.push(`${where}: ${what}`);
  for (const m of manifests) {
    if (m.kind === 'Secret') say(`Secret/${m.metadata.name}`, 'a Secret is generated: its value would be in the build');
    const pods = m.kind === 'Deployment' || m.kind === 'Job' ? [m.spec.template.spec] : m.kind === 'CronJob' ? [m.spec.jobTemplate.spec.template.spec] : [];
    for (const pod of pods) {
      for (const c of [...(pod.initContainers ?? []), ...pod.containers] as any[]) {
        if ([...(c.command ?? []), ...(c.args ?? [])].some((a: string) => /PASSWORD=|--password|:\/\/[^:@/]+:[^@$]+@/i.test(a))) say(`${m.kind}/${m.metadata.name}`, `${c.name}: a password on its command line`);
        for (const e of (c.env ?? []) as any[]) {
          const literal = typeof e.value === 'string' ? e.value : '';
          if (/PASSWORD|TOKEN|SECRET/i.test(e.name) && e.valueFrom?.secretKeyRef === undefined) say(`${m.kind}/${m.metadata.name}`, `${e.name} is not a secretKeyRef`);
          const url = /^postgres(?:ql)?:\/\/([^:@/]+)(?::([^@]*))?@/.exec(literal);
          if (url && url[2] !== undefined && url[2] !== '$(DB_PASSWORD)') say(`${m.kind}/${m.metadata.name}`, `${e.name} holds a password literally`);
        }
      }
    }
  }
  for (const spec of specs) {
    const { names, settings } = spec;
    const crud = settings.kind === 'crud';
    const stack = STACKS[settings.stack];
    const where = `${names.slug}`;
    const deployment = manifests.find(of('Deployment', names.service));
    if (!deployment) {
      say(where, 'no Deployment');
      continue;
    }
    const replicas = crud ? settings.processes : 1;
    if (deployment.spec.replicas !== replicas) say(where, `replicas ${deployment.spec.replicas}, not ${crud ? '--processes ' : ''}${replicas}`);
    const pod = deployment.spec.template.spec;
    const c = container(deployment, 'backend');
    if (c.image !== `registry.example.invalid/ovu/${names.service}:0.1.0`) say(where, `image ${c.image}`);
    const port = (c.ports as any[]).find((p) => p.name === 'http');
    if (port?.containerPort !== CONTAINER_PORT) say(where, `container port ${port?.containerPort}`);
    for (const [probe, p] of [['livenessProbe', '/health/live'], ['readinessProbe', '/health/ready']] as const) {
      const get = c[probe]?.httpGet;
      if (get?.path !== p || (get.port !== 'http' && get.port !== CONTAINER_PORT)) say(where, `${probe} is not GET ${p} on the container port`);
    }
    for (const r of ['requests', 'limits']) for (const k of ['cpu', 'memory']) if (!c.resources?.[r]?.[k]) say(where, `no resources.${r}.${k}`);
    const pods = [pod, ...(crud ? [manifests.find(of('Job', `${names.slug}-migrate`))?.spec.template.spec] : [])];
    for (const p of pods) {
      if (!p) continue;
      const sc = p.securityContext ?? {};
      if (sc.runAsNonRoot !== true || sc.runAsUser !== dockerfileUid(spec)) say(where, `pod securityContext ${JSON.stringify(sc)} is not the image's non-root user ${dockerfileUid(spec)}`);
      for (const ctr of p.containers as any[]) {
        const csc = ctr.securityContext ?? {};
        if (csc.readOnlyRootFilesystem !== true || csc.allowPrivilegeEscalation !== false || !csc.capabilities?.drop?.includes('ALL')) say(where, `${ctr.name}: securityContext ${JSON.stringify(csc)}`);
      }
    }
    // The same variables as the app's compose service: settings from the ConfigMap, secrets by reference.
    const configRef = (c.envFrom as any[] | undefined)?.[0]?.configMapRef?.name;
    const config = manifests.find(of('ConfigMap', configRef));
    const env = (c.env ?? []) as any[];
    const names_ = new Set([...Object.keys(config?.data ?? {}), ...env.map((e) => e.name)].filter((n) => n !== 'DB_PASSWORD'));
    // Beyond compose's: the read URL (unset in compose) and DB_PGBOUNCER, said either way.
    const composeEnv = [...new Set([...Object.keys(appService(spec, crud ? 'postgres' : undefined, 'ULM_SERVICE_TOKEN')['environment'] as object), ...(crud ? ['DATABASE_READ_URL', 'DB_PGBOUNCER'] : [])])];
    if (crud && config?.data?.['DB_PGBOUNCER'] !== String(settings.pgbouncer)) say(where, `DB_PGBOUNCER ${config?.data?.['DB_PGBOUNCER']}`);
    if ([...names_].sort().join() !== composeEnv.sort().join()) say(where, `environment ${[...names_].sort().join(',')} is not compose's ${composeEnv.sort().join(',')}`);
    if (config?.data?.['ULM_BASE_URL'] !== settings.ulmUrl) say(where, `ULM_BASE_URL ${config?.data?.['ULM_BASE_URL']}`);
    if (crud) {
      const pool = { DB_POOL_SIZE: settings.pool.size, DB_MAX_OVERFLOW: settings.pool.maxOverflow, DB_POOL_TIMEOUT: settings.pool.timeout };
      for (const [k, v] of Object.entries(pool)) if (config?.data?.[k] !== String(v)) say(where, `${k} ${config?.data?.[k]}, not ${v}`);
    }
    const migrate = manifests.find(of('Job', `${names.slug}-migrate`));
    const database = manifests.find(of('Database', `${names.slug}-db`));
    if (!crud) {
      if (migrate || database || env.some((e) => e.name === 'DATABASE_URL')) say(where, 'a readonly app has database parts');
      continue;
    }
    for (const [what, ctr] of [['backend', c], ['migration Job', migrate && container(migrate, 'migrate')]] as const) {
      if (!ctr) {
        say(where, `no ${what}`);
        continue;
      }
      const e = (ctr.env ?? []) as any[];
      const password = e.findIndex((x) => x.name === 'DB_PASSWORD');
      const url = e.findIndex((x) => x.name === 'DATABASE_URL');
      const ref = e[password]?.valueFrom?.secretKeyRef;
      if (ref?.name !== dbSecretName(spec) || ref?.key !== 'password') say(where, `${what}: DB_PASSWORD is not the Secret ${dbSecretName(spec)}'s password`);
      // $(VAR) only expands a variable defined before it.
      // The backend through its Pooler (a --pgbouncer app), the migration straight to the primary.
      const direct = `postgresql://${names.user}:$(DB_PASSWORD)@${CLUSTER_NAME}-rw:5432/${names.db}`;
      const pooled = settings.pgbouncer ? `postgresql://${names.user}:$(DB_PASSWORD)@${poolerName(spec, 'rw')}:5432/${names.db}${settings.stack === 'typescript' ? '?pgbouncer=true' : ''}` : direct;
      if (url < 0 || password > url || e[url].value !== (what === 'backend' ? pooled : direct)) say(where, `${what}: DATABASE_URL ${e[url]?.value}`);
      if (what === 'backend') {
        const read = e.findIndex((x) => x.name === 'DATABASE_READ_URL');
        const host = settings.pgbouncer ? poolerName(spec, 'ro') : `${CLUSTER_NAME}-ro`;
        if (read < password || !String(e[read]?.value).includes(`@${host}:5432/${names.db}`)) say(where, `DATABASE_READ_URL ${e[read]?.value} is not the replicas' ${host}`);
      }
    }
    // The budget in every state a rollout passes through, from the built manifests' own numbers.
    const role = (manifests.find(of('Cluster', CLUSTER_NAME))?.spec?.managed?.roles ?? []).find((r: any) => r.name === names.user);
    const beside = EXTRA_CONNECTIONS + DUMP_CONNECTIONS;
    let peak: number;
    if (settings.pgbouncer) {
      const pooler = manifests.find(of('Pooler', poolerName(spec, 'rw')));
      const ro = manifests.find(of('Pooler', poolerName(spec, 'ro')));
      if (pooler?.spec?.pgbouncer?.poolMode !== 'transaction' || ro?.spec?.type !== 'ro') say(where, 'no transaction-mode Poolers rw and ro');
      const size = Number(pooler?.spec?.pgbouncer?.parameters?.max_db_connections);
      if (size !== settings.pool.size + settings.pool.maxOverflow || pooler?.spec?.pgbouncer?.parameters?.default_pool_size !== String(size)) say(where, `Pooler pool ${size}`);
      peak = size * (pooler?.spec?.instances + (pooler?.spec?.deploymentStrategy?.rollingUpdate?.maxSurge ?? 1)) + beside;
    } else {
      const surge = deployment.spec.strategy?.rollingUpdate?.maxSurge;
      if (typeof surge !== 'number') say(where, `the Deployment's maxSurge ${surge} is not explicit`);
      peak = (Number(config?.data?.['DB_POOL_SIZE']) + Number(config?.data?.['DB_MAX_OVERFLOW'])) * (deployment.spec.replicas + (surge ?? 1)) + beside;
    }
    if (!(role?.connectionLimit >= peak)) say(where, `connectionLimit ${role?.connectionLimit} < ${peak} connections at the peak of a rollout`);
    // The nightly dump: pg_dump -Fc as the app's login, its password from its Secret, uploaded.
    const cron = manifests.find(of('CronJob', `${names.slug}-db-backup`));
    const job = cron?.spec?.jobTemplate?.spec?.template?.spec;
    const dump = (job?.initContainers ?? []).find((c: any) => c.name === 'dump');
    const pgpass = (dump?.env ?? []).find((e: any) => e.name === 'PGPASSWORD')?.valueFrom?.secretKeyRef;
    const scripts = manifests.find(of('ConfigMap', 'ovu-backup-scripts'))?.data ?? {};
    if (!cron || !/^\S+ \S+ \* \* \*$/.test(cron.spec.schedule) || pgpass?.name !== dbSecretName(spec) || !/pg_dump -Fc /.test(scripts[dump?.command?.[1]?.replace('/scripts/', '')] ?? '')) say(where, 'no daily pg_dump -Fc CronJob as the app login');
    if (!(job?.initContainers ?? []).some((c: any) => c.name === 'upload' && /ovu_upload/.test(scripts[c.command?.[1]?.replace('/scripts/', '')] ?? ''))) say(where, 'the dump is not uploaded');
    if (manifests.find(of('CronJob', `${names.slug}-db-restore`))?.spec?.suspend !== true) say(where, 'no suspended restore CronJob');
    if (migrate) {
      const ctr = container(migrate, 'migrate');
      if (JSON.stringify(ctr?.command) !== JSON.stringify(stack.migrate.inImage)) say(where, `migration command ${JSON.stringify(ctr?.command)}`);
      if (ctr?.image !== c.image) say(where, 'the migration Job runs another image than the app');
      if (migrate.spec.template.spec.restartPolicy === 'Always') say(where, 'the migration Job restarts Always');
    }
    if (database?.spec?.name !== names.db || database?.spec?.owner !== names.user || database?.spec?.cluster?.name !== CLUSTER_NAME) say(where, `Database ${JSON.stringify(database?.spec)}`);
  }
  // The Cluster: a managed login per crud app, nothing more than login, its limit, its Secret.
  const crud = specs.filter((s) => s.settings.kind === 'crud');
  const cluster = manifests.find(of('Cluster', CLUSTER_NAME));
  const roles = (cluster?.spec?.managed?.roles ?? []) as any[];
  if (roles.map((r) => r.name).sort().join() !== crud.map((s) => s.names.user).sort().join()) say('Cluster', `roles ${roles.map((r) => r.name).join(',')}`);
  for (const s of crud) {
    const r = roles.find((x) => x.name === s.names.user);
    if (!r) continue;
    if (r.connectionLimit !== k8sConnectionLimit(s)) say('Cluster', `${r.name} connectionLimit ${r.connectionLimit}`);
    if (r.login !== true || r.passwordSecret?.name !== dbSecretName(s)) say('Cluster', `${r.name} is not a login with the app's Secret`);
    for (const flag of ['superuser', 'createdb', 'createrole', 'replication', 'bypassrls']) if (r[flag] !== false) say('Cluster', `${r.name} ${flag} is not false`);
    const hba = (cluster?.spec?.postgresql?.pg_hba ?? []) as string[];
    const allow = hba.indexOf(`host ${s.names.db} ${s.names.user} all scram-sha-256`);
    const others = hba.indexOf(`host ${s.names.db} all all reject`);
    const elsewhere = hba.indexOf(`host all ${s.names.user} all reject`);
    if (allow < 0 || others < allow || elsewhere < allow) say('Cluster', `pg_hba does not keep ${s.names.user} to ${s.names.db} and others out of it`);
  }
  const max = Number(cluster?.spec?.postgresql?.parameters?.max_connections);
  if (crud.length && !(max >= clusterMaxConnections(crud))) say('Cluster', `max_connections ${max} does not hold the apps' limits`);
  // Backups: the Cluster's to object storage, credentials by Secret reference, and a ScheduledBackup.
  const store = cluster?.spec?.backup?.barmanObjectStore;
  if (!/^s3:\/\//.test(store?.destinationPath ?? '') || store?.s3Credentials?.secretAccessKey?.name !== 'ovu-backup-s3') say('Cluster', 'no backup to object storage with credentials from a Secret');
  if (crud.length && !manifests.some((m) => m.kind === 'ScheduledBackup' && m.spec.cluster.name === CLUSTER_NAME)) say('Cluster', 'no ScheduledBackup');
  return problems;
}

describe('the workspace deploy/k8s/ (kubectl kustomize, kubernetes-validate, CloudNativePG CRDs)', () => {
  it('builds with kustomize, each app alone and all together', async () => {
    const kinds = (ms: Manifest[]) => ms.map((m) => `${m.kind}/${m.metadata.name}`).sort();
    const each: Manifest[] = [];
    for (const spec of apps) each.push(...(await kustomizeBuild(path.join(ws, spec.names.slug, 'deploy', 'k8s'))));
    const workspaceOwn = ['Cluster/ovu-postgres', 'ScheduledBackup/ovu-postgres-daily', 'PrometheusRule/ovu-platform', 'Pooler/orders-pooler-rw', 'Pooler/orders-pooler-ro'];
    const workspaceMaps = ['ovu-backup-scripts', 'ovu-backup-settings', 'ovu-monitoring-queries'].map((n) => `ConfigMap/${n}`);
    expect(kinds(built)).toEqual(kinds([...each, ...built.filter((m) => [...workspaceOwn, ...workspaceMaps].includes(`${m.kind}/${m.metadata.name}`) || m.kind === 'CronJob')]));
    expect(kinds(built)).toEqual(
      [
        ...workspaceOwn,
        ...workspaceMaps,
        ...['inventory', 'orders'].flatMap((a) => [`Database/${a}-db`, `Job/${a}-migrate`, `CronJob/${a}-db-backup`, `CronJob/${a}-db-restore`]),
        ...apps.flatMap((s) => [`Deployment/${s.names.service}`, `Service/${s.names.service}`]),
        ...built.filter((m) => m.kind === 'ConfigMap' && !workspaceMaps.includes(`ConfigMap/${m.metadata.name}`)).map((m) => `ConfigMap/${m.metadata.name}`),
      ].sort(),
    );
    expect(built.filter((m) => m.kind === 'ConfigMap')).toHaveLength(apps.length + workspaceMaps.length);
  });

  it('lists every manifest file of an app in its kustomization (none lies there unused)', () => {
    for (const spec of apps) {
      const dir = path.join(ws, spec.names.slug, 'deploy', 'k8s');
      const k = parse(fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[]; patches?: { path: string }[] };
      const listed = [...k.resources, ...(k.patches ?? []).map((p) => p.path), 'kustomization.yaml'].sort();
      expect(fs.readdirSync(dir).sort(), spec.names.slug).toEqual(listed);
    }
  });

  it('has core kinds that kubernetes-validate --strict passes for Kubernetes 1.33 and 1.37', async () => {
    const core = built.filter(isCore);
    expect(core.length).toBeGreaterThan(14);
    expect(await coreProblems(core)).toEqual([]);
  });

  it('has CloudNativePG kinds that their CRDs schemas pass, unknown fields refused', () => {
    const cnpg = built.filter(isCnpg);
    expect(cnpg.map((m) => m.kind).sort()).toEqual(['Cluster', 'Database', 'Database', 'Pooler', 'Pooler', 'ScheduledBackup']);
    expect(cnpg.flatMap(cnpgProblems)).toEqual([]);
  });

  it("has a PrometheusRule that the prometheus-operator's schema passes (@kubernetes-models/prometheus-operator)", () => {
    const rules = built.filter((m) => m.apiVersion.startsWith('monitoring.coreos.com/'));
    expect(rules.map((m) => m.kind)).toEqual(['PrometheusRule']);
    expect(() => new PrometheusRule(rules[0] as any).validate()).not.toThrow();
    const broken = structuredClone(rules[0]!);
    broken.spec.groups[0].rules[0].expr = 42;
    delete broken.spec.groups[1].name;
    expect(() => new PrometheusRule(broken as any).validate()).toThrow(/expr|name/);
    // The package's validators let unknown fields through; its type declarations list the fields.
    expect(promRuleUnknownFields(rules[0]!)).toEqual([]);
    const typo = structuredClone(rules[0]!);
    typo.spec.groups[0].rules[0].expresion = typo.spec.groups[0].rules[0].expr;
    typo.spec.groups[1].interva = '1m';
    expect(promRuleUnknownFields(typo)).toEqual(['groups/0/rules/0: expresion', 'groups/1: interva']);
  });

  it('has what the apps and ADR-002 need: probes, non-root, the password by reference only, the budget', () => {
    expect(policyProblems(built, apps)).toEqual([]);
    const cluster = built.find(of('Cluster', CLUSTER_NAME))!;
    // inventory (5 + 5) x (2 replicas + 1 surge) + 1 + 1 = 32; orders behind its Pooler, (3 + 2) x 2
    // PgBouncer pods + 1 + 1 = 12: 3 + 30 + 44 + 10 < 100.
    expect(cluster.spec.managed.roles.map((r: any) => [r.name, r.connectionLimit])).toEqual([
      ['inventory_user', 32],
      ['orders_user', 12],
    ]);
    expect(cluster.spec.postgresql.parameters.max_connections).toBe('100');
  });

  it('keeps the password out of every file it wrote under deploy/', () => {
    for (const spec of apps.filter((s) => s.settings.kind === 'crud')) {
      const env = [path.join(ws, spec.names.slug, '.env'), path.join(ws, '.env')].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f, 'utf8'));
      const password = env.map((t) => new RegExp(`^${spec.names.passwordVar}=(.+)$`, 'm').exec(t)?.[1]).find(Boolean);
      expect(password, spec.names.passwordVar).toMatch(/^[A-Za-z0-9._~-]{32,}$/);
      const deploy = [path.join(ws, 'deploy'), ...apps.map((s) => path.join(ws, s.names.slug, 'deploy'))];
      for (const dir of deploy) {
        for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
          if (e.isFile()) expect(fs.readFileSync(path.join(e.parentPath, e.name), 'utf8')).not.toContain(password);
        }
      }
    }
  });
});

describe('the checks fail on a broken manifest', () => {
  const mutated = (edit: (ms: Manifest[]) => void): Manifest[] => {
    const copy = structuredClone(built);
    edit(copy);
    return copy;
  };
  const inventory = (ms: Manifest[]) => ms.find(of('Deployment', 'inventory-backend'))!;

  it('a literal password in DATABASE_URL', () => {
    const ms = mutated((m) => {
      const url = container(inventory(m), 'backend').env.find((e: any) => e.name === 'DATABASE_URL');
      url.value = 'postgresql://inventory_user:hunter2hunter2@ovu-postgres-rw:5432/inventory_db';
    });
    expect(policyProblems(ms, apps)).toEqual(expect.arrayContaining([expect.stringContaining('holds a password literally')]));
  });

  it('a password as a value, or a Secret in the build', () => {
    const ms = mutated((m) => {
      const pw = container(inventory(m), 'backend').env.find((e: any) => e.name === 'DB_PASSWORD');
      delete pw.valueFrom;
      pw.value = 'hunter2';
      m.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'inventory-db-credentials' }, stringData: { password: 'hunter2' } });
    });
    expect(policyProblems(ms, apps)).toEqual(expect.arrayContaining([expect.stringContaining('DB_PASSWORD is not a secretKeyRef'), expect.stringContaining('a Secret is generated')]));
  });

  it('a missing readiness probe, a root user, replicas that are not --processes', () => {
    const ms = mutated((m) => {
      delete container(inventory(m), 'backend').readinessProbe;
      inventory(m).spec.template.spec.securityContext.runAsUser = 0;
      inventory(m).spec.replicas = 1;
    });
    const problems = policyProblems(ms, apps);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('readinessProbe is not GET /health/ready'),
        expect.stringContaining("is not the image's non-root user 10001"),
        expect.stringContaining('replicas 1, not --processes 2'),
      ]),
    );
  });

  it("a rollout whose surge, or a Pooler whose pods, the login's limit does not cover", () => {
    const ms = mutated((m) => {
      inventory(m).spec.strategy.rollingUpdate.maxSurge = 2;
      m.find(of('Pooler', 'orders-pooler-rw'))!.spec.instances = 3;
    });
    expect(policyProblems(ms, apps)).toEqual(
      expect.arrayContaining([expect.stringContaining('inventory: connectionLimit 32 < 42'), expect.stringContaining('orders: connectionLimit 12 < 17')]),
    );
  });

  it('a dump CronJob whose password is not from the Secret, a Cluster backup without credentials by reference', () => {
    const ms = mutated((m) => {
      const cron = m.find(of('CronJob', 'inventory-db-backup'))!;
      const pw = cron.spec.jobTemplate.spec.template.spec.initContainers[0].env.find((e: any) => e.name === 'PGPASSWORD');
      delete pw.valueFrom;
      pw.value = 'hunter2';
      delete m.find(of('Cluster', CLUSTER_NAME))!.spec.backup.barmanObjectStore.s3Credentials;
    });
    expect(policyProblems(ms, apps)).toEqual(
      expect.arrayContaining([expect.stringContaining('PGPASSWORD is not a secretKeyRef'), expect.stringContaining('no daily pg_dump -Fc CronJob'), expect.stringContaining('no backup to object storage')]),
    );
  });

  it("a role that is a superuser, or whose limit is not the app's budget", () => {
    const ms = mutated((m) => {
      const role = m.find(of('Cluster', CLUSTER_NAME))!.spec.managed.roles[0];
      role.superuser = true;
      role.connectionLimit = 11;
    });
    expect(policyProblems(ms, apps)).toEqual(
      expect.arrayContaining([expect.stringContaining('inventory_user superuser is not false'), expect.stringContaining('inventory_user connectionLimit 11')]),
    );
  });

  it('an unknown field in a CloudNativePG manifest (a typo the API server would drop)', () => {
    const ms = mutated((m) => {
      m.find(of('Database', 'inventory-db'))!.spec.ownr = 'inventory_user';
      m.find(of('Cluster', CLUSTER_NAME))!.spec.managed.roles[0].connectionLimt = 3;
    });
    expect(ms.filter(isCnpg).flatMap(cnpgProblems)).toEqual([
      'Cluster/ovu-postgres: /spec/managed/roles/0 must NOT have additional properties (connectionLimt)',
      'Database/inventory-db: /spec must NOT have additional properties (ownr)',
    ]);
  });

  it('an unknown field in a core manifest', async () => {
    const ms = mutated((m) => {
      container(inventory(m), 'backend').readinesProbe = { httpGet: { path: '/health/ready', port: 'http' } };
    });
    const problems = await coreProblems(ms.filter(isCore), ['1.33.0']);
    expect(problems.join('\n')).toMatch(/deployment\/inventory-backend[^\n]*'readinesProbe' was unexpected/);
  });

  it('a kustomization listing a file that is not there', async () => {
    const dir = path.join(ws, 'inventory', 'deploy', 'k8s');
    const file = path.join(dir, 'kustomization.yaml');
    const text = fs.readFileSync(file, 'utf8');
    try {
      fs.writeFileSync(file, text.replace('  - migrate-job.yaml\n', '  - migrate-job.yaml\n  - pooler.yaml\n'));
      await expect(kustomizeBuild(path.join(ws, 'deploy', 'k8s'))).rejects.toThrow(/pooler\.yaml/);
    } finally {
      fs.writeFileSync(file, text);
    }
  });
});
