import { describe, expect, it } from 'vitest';
import { deriveNames, initDbEnvVars } from '../../../src/app/names.ts';
import { UsageError } from '../../../src/errors.ts';

describe('initDbEnvVars', () => {
  it('names what an init-db.sql block reads: the verifier, never the password', () => {
    expect(initDbEnvVars(deriveNames('Inventory Service'))).toEqual(['INVENTORY_SERVICE_DB_VERIFIER']);
  });
});

describe('deriveNames', () => {
  it('derives every name from a simple name', () => {
    expect(deriveNames('inventory')).toEqual({
      slug: 'inventory',
      snake: 'inventory',
      title: 'Inventory',
      db: 'inventory_db',
      user: 'inventory_user',
      envPrefix: 'INVENTORY',
      passwordVar: 'INVENTORY_DB_PASSWORD',
      verifierVar: 'INVENTORY_DB_VERIFIER',
      service: 'inventory-backend',
    });
  });

  it.each([
    ['inventory-service', 'inventory-service', 'inventory_service'],
    ['Inventory Service', 'inventory-service', 'inventory_service'],
    ['InventoryService', 'inventory-service', 'inventory_service'],
    ['HTTPReports', 'http-reports', 'http_reports'],
    ['  crm_v2 ', 'crm-v2', 'crm_v2'],
    ['Café Orders', 'cafe-orders', 'cafe_orders'],
    ['a--b__c', 'a-b-c', 'a_b_c'],
  ])('%s → %s / %s', (input, slug, snake) => {
    const n = deriveNames(input);
    expect(n.slug).toBe(slug);
    expect(n.snake).toBe(snake);
    expect(n.db).toBe(`${snake}_db`);
    expect(n.passwordVar).toBe(`${snake.toUpperCase()}_DB_PASSWORD`);
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['---', /no letters or digits/],
    ['日本', /no letters or digits/],
    ['2fa', /starts with a digit/],
    ['42 things', /starts with a digit/],
    ['select', /reserved word/],
    ['User', /reserved word/],
    ['ulm', /belongs to the platform/],
    ['postgres', /belongs to the platform/],
    ['pg stats', /pg_/],
    ['a'.repeat(59), /too long/],
  ])('rejects %j', (input, message) => {
    expect(() => deriveNames(input)).toThrow(UsageError);
    expect(() => deriveNames(input)).toThrow(message);
  });

  it('accepts the longest name whose login still fits in 63 bytes', () => {
    const n = deriveNames('a'.repeat(58));
    expect(Buffer.byteLength(n.user)).toBe(63);
  });

  it('only ever produces characters that need no quoting', () => {
    for (const input of ['Ünïcödé Näme', "O'Brien; DROP TABLE x", 'a: b\n- c', '${HOME}', 'Robert"); --']) {
      const n = deriveNames(input);
      expect(n.slug).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(n.snake).toMatch(/^[a-z][a-z0-9_]*$/);
    }
  });
});
