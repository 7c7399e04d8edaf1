// How argument errors describe what came: every TypeError and RangeError of the package (wrapper and
// reference alike) names the function and the argument, says what was expected and shows what came
// through describe().

/** Renders a value for an error message: short, and never throws. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return v.length <= 8 ? `[${v.map(describe).join(", ")}]` : `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as { length?: number }).length ?? v.byteLength})`;
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === "object") return (v as object).constructor?.name ?? "an object";
  if (typeof v === "function") return "a function";
  if (typeof v === "symbol") return "a symbol";
  if (typeof v === "bigint") return `${v}n`;
  return String(v);
}
