import { describe, expect, it } from 'vitest';
import { serverSettings } from '../../../src/workspace/compose/database-service.ts';

describe('serverSettings', () => {
  it.each([
    [undefined, {}],
    ['postgres', {}],
    ['postgres -c max_connections=200', { maxConnections: 200 }],
    [['postgres', '-c', 'max_connections=300', '-c', 'shared_buffers=1GB'], { maxConnections: 300 }],
    ['postgres -cmax_connections=150 -c superuser_reserved_connections=5', { maxConnections: 150, reserved: 5 }],
    ['postgres --max_connections=120 -c reserved_connections=2', { maxConnections: 120, reserved: 5 }],
    ['postgres -N 250', { maxConnections: 250 }],
    [['postgres', '-c', '"max_connections=90"'], { maxConnections: 90 }],
  ])('reads %j', (command, expected) => {
    expect(serverSettings(command === undefined ? {} : { command })).toEqual(expected);
  });
});
