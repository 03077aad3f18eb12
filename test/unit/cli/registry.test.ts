import { describe, expect, it } from 'vitest';
import { COMMANDS, COMMAND_DEFS, RESERVED_WORDS } from '../../../src/commands/registry.ts';
import { COMMAND_WORDS } from '../../../src/app/names.ts';
import { stackIds } from '../../../src/stacks/index.ts';
import { helpText } from '../../../src/cli/args.ts';
import { RUNNERS } from '../../../src/cli/run/index.ts';

// The schema ships in the package as JSON; it is read with the module's own import, not the disk.
import schema from '../../../schema/result-v1.schema.json' with { type: 'json' };

describe('one command registry', () => {
  it("the JSON result's command and stack enums are the registry's commands and the stack table's rows", () => {
    expect(schema.properties.command.enum).toEqual([...COMMANDS]);
    const app = schema.properties.app.oneOf.find((o: { type?: unknown }) => o.type === 'object') as { properties: { stack: { enum: string[] } } };
    expect(app.properties.stack.enum).toEqual(stackIds());
  });

  it('an app cannot be named after a command or a reserved word', () => {
    expect([...COMMAND_WORDS].sort()).toEqual([...COMMANDS, ...RESERVED_WORDS].sort());
  });

  it('every command has a runner, and its help lists the options the registry gives it', () => {
    expect(Object.keys(RUNNERS).sort()).toEqual([...COMMANDS].sort());
    for (const command of COMMANDS) {
      const help = helpText(command);
      for (const option of COMMAND_DEFS[command].options) expect(help, `${command} --${option}`).toContain(`--${option}`);
    }
    expect(helpText('list')).not.toContain('--dry-run');
  });
});
