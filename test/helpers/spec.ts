import type { AppSettings, AppSpec } from '../../src/app/spec.ts';

/**
 * An AppSpec as deriveNames would make it for `name` (`inventory`, `user-prefs` or `user_prefs`),
 * with the ADR's defaults unless `settings` says otherwise: for tests that need a spec without
 * going through the name rules.
 */
export function appSpec(name: string, settings: Partial<AppSettings> = {}): AppSpec {
  const snake = name.replace(/-/g, '_');
  const slug = snake.replace(/_/g, '-');
  const envPrefix = snake.toUpperCase();
  return {
    names: {
      slug,
      snake,
      title: snake
        .split('_')
        .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
        .join(' '),
      db: `${snake}_db`,
      user: `${snake}_user`,
      envPrefix,
      passwordVar: `${envPrefix}_DB_PASSWORD`,
      verifierVar: `${envPrefix}_DB_VERIFIER`,
      service: `${slug}-backend`,
    },
    settings: {
      stack: 'python',
      kind: 'crud',
      port: 8001,
      pool: { size: 20, maxOverflow: 10, timeout: 30 },
      processes: 1,
      pgbouncer: false,
      ulmUrl: 'http://ulm-backend:8000',
      ...settings,
    },
  };
}
