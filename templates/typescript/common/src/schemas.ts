/**
 * Schemas shared by the routes, in TypeBox: one definition gives the JSON Schema Fastify
 * validates and serialises with (and publishes in /openapi.json), and the TypeScript type the
 * handlers see (`Static<typeof X>`, or inferred through the TypeBox type provider).
 */
import { Type, type Static } from 'typebox';

/** A user as this app shows it: the allow-listed fields of ULM's answer. */
export const User = Type.Object(
  {
    id: Type.String(),
    email: Type.Union([Type.String(), Type.Null()]),
    name: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false, description: 'A user, read from ULM (allow-listed fields)' },
);
export type User = Static<typeof User>;

/** Every error answer. */
export const ErrorBody = Type.Object({
  code: Type.String({ description: 'Stable, for programs' }),
  detail: Type.Unknown({ description: 'For people; a list of problems for validation errors' }),
});
