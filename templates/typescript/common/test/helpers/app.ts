/** The app under test: a fake ULM (and what this kind of app adds: test/helpers/kind.ts), no network. */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { ULMClient } from '../../src/clients/ulm.js';
import { readConfig } from '../../src/config.js';
import { FAKE_ULM_URL, FakeULM } from './fake-ulm.js';
import { kindFixtures, type KindFixtures } from './kind.js';

export type TestApp = {
  app: FastifyInstance;
  fakeUlm: FakeULM;
  /** What the app logged (warnings and errors), one JSON line each. */
  logs: string[];
} & KindFixtures;

export async function testApp(): Promise<TestApp> {
  const fakeUlm = new FakeULM();
  // The real client over the fake: retries run without waiting.
  const ulm = new ULMClient({ baseUrl: FAKE_ULM_URL, fetch: fakeUlm.fetch, backoffBaseMs: 0 });
  const fixtures = kindFixtures();
  const logs: string[] = [];
  const app = await buildApp({ config: readConfig({}), ulm, ...fixtures, logger: { level: 'warn', stream: { write: (line: string) => logs.push(line) } } });
  return { app, fakeUlm, logs, ...fixtures };
}
