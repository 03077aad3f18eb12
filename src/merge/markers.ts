/**
 * Git's conflict markers, as files a merge left behind hold them: a cheap first look that needs no
 * diff library (three-way.ts, which writes them, loads node-diff3).
 */

/** Whether seven <, = or > in a row appear at all: a native search first, the line-anchored pattern only then. */
export function hasMarkerRun(text: string): boolean {
  return text.includes('<<<<<<<') || text.includes('=======') || text.includes('>>>>>>>');
}
