/**
 * The alerting rules with the real promtool (Debian's prometheus package, 2.42): the rule file a
 * workspace gets passes `promtool check rules`, and `promtool test rules` (test/fixtures/alerts/)
 * shows each alert firing on the series that should fire it, under the compose exporter's names and
 * CloudNativePG's, and not on the others. The compose Prometheus loads that file, and the
 * Kubernetes PrometheusRule holds the same groups.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { ROOT, adrWorkspace, runMainInProcess, tempDir } from '../../helpers/cli.ts';
import { composeConfig } from '../../helpers/compose.ts';

const PROMTOOL = process.env.OVU_PROMTOOL ?? '/usr/bin/promtool';
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'alerts', 'alerts.test.yml');
let ws: string;

beforeAll(async () => {
  if (!fs.existsSync(PROMTOOL)) throw new Error(`no promtool at ${PROMTOOL}: apt-get install prometheus (or set OVU_PROMTOOL)`);
  ws = adrWorkspace();
  expect(await runMainInProcess(['inventory', '--yes', '--workspace', ws])).toBe(0);
}, 120_000);

/** promtool test rules on `rules` (the text of a rule file) with the fixture's tests. */
async function promtoolTest(rules: string) {
  const dir = tempDir('ovu-promtool-');
  fs.writeFileSync(path.join(dir, 'alerts.yml'), rules);
  fs.copyFileSync(FIXTURE, path.join(dir, 'alerts.test.yml'));
  return execa(PROMTOOL, ['test', 'rules', 'alerts.test.yml'], { cwd: dir, reject: false });
}

describe('the alerting rules (promtool 2.42)', () => {
  it('monitoring/alerts.yml passes promtool check rules', async () => {
    const r = await execa(PROMTOOL, ['check', 'rules', path.join(ws, 'monitoring', 'alerts.yml')], { reject: false });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('SUCCESS: 7 rules found');
  });

  it('fires each alert where it should and nowhere else (promtool test rules)', async () => {
    const r = await promtoolTest(fs.readFileSync(path.join(ws, 'monitoring', 'alerts.yml'), 'utf8'));
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
  });

  it('fails the tests when a rule is gone or its threshold moved (the tests can tell)', async () => {
    const rules = parse(fs.readFileSync(path.join(ws, 'monitoring', 'alerts.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const without = structuredClone(rules);
    without.groups[0]!.rules = without.groups[0]!.rules.filter((x) => x.alert !== 'OvuBackupTooOld');
    const r1 = await promtoolTest(stringify(without));
    expect(r1.exitCode).not.toBe(0);
    expect(r1.stdout + r1.stderr).toContain('OvuBackupTooOld');
    const moved = structuredClone(rules);
    const near = moved.groups[0]!.rules.find((x) => x.alert === 'OvuLoginNearConnectionLimit')!;
    near.expr = near.expr.replace(/> 0\.8$/, '> 0.9');
    const r2 = await promtoolTest(stringify(moved));
    expect(r2.exitCode).not.toBe(0);
    expect(r2.stdout + r2.stderr).toContain('OvuLoginNearConnectionLimit');
  });

  it('is the file the compose Prometheus loads, and the groups of the Kubernetes PrometheusRule', async () => {
    const prometheus = parse(fs.readFileSync(path.join(ws, 'monitoring', 'prometheus.yml'), 'utf8')) as { rule_files: string[] };
    const project = await composeConfig(ws, 'docker-compose.yml', ['monitoring']);
    const mount = (project.services['ovu-prometheus'].volumes as { source: string; target: string }[]).find((v) => prometheus.rule_files.includes(v.target));
    expect(mount?.source).toBe(path.join(ws, 'monitoring', 'alerts.yml'));
    const rule = parseAllDocuments(fs.readFileSync(path.join(ws, 'deploy', 'k8s', 'monitoring.yaml'), 'utf8'))
      .map((d) => d.toJS())
      .find((d: any) => d.kind === 'PrometheusRule');
    expect(rule.spec.groups).toEqual(parse(fs.readFileSync(path.join(ws, 'monitoring', 'alerts.yml'), 'utf8')).groups);
  });
});
