/** A readonly app's tests run with the fake ULM alone. */
export type KindFixtures = Record<never, never>;

export const kindFixtures = (): KindFixtures => ({});
