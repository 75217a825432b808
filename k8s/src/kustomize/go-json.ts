/**
 * Serialises JSON-like data exactly as Go's `encoding/json.Marshal` does for the
 * values kustomize hashes: map keys sorted, no whitespace, and Go's string escaping
 * (`<`, `>`, `&`, U+2028 and U+2029 escaped as \uXXXX, control characters as
 * \n \r \t \b \f or \u00XX). JavaScript's JSON.stringify differs on exactly those.
 */
export function goJsonMarshal(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return goJsonString(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`cannot encode ${value} as JSON`);
    return JSON.stringify(value);
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  if (Array.isArray(value)) return `[${value.map(goJsonMarshal).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => compareBytes(a, b));
    return `{${entries.map(([key, item]) => `${goJsonString(key)}:${goJsonMarshal(item)}`).join(",")}}`;
  }
  throw new Error(`cannot encode a ${typeof value} as JSON`);
}

/** Go sorts map keys by their UTF-8 bytes. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f" };

function goJsonString(text: string): string {
  let out = '"';
  for (const char of text) {
    const short = SHORT_ESCAPES[char];
    const code = char.codePointAt(0) ?? 0;
    if (short) out += short;
    else if (code < 0x20 || char === "<" || char === ">" || char === "&" || code === 0x2028 || code === 0x2029) {
      out += `\\u${code.toString(16).padStart(4, "0")}`;
    } else out += char;
  }
  return `${out}"`;
}
