// Checks on parsed JSON, for bodies and tool-call arguments that arrive untyped.

/** A JSON object: not null, not an array. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
