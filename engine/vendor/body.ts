/**
 * Response bodies for mapping expressions: JSON when the vendor says so or the text parses as JSON
 * (vendors often send JSON as text/plain), otherwise the text; undefined when there is none.
 */
export function parseResponseBody(raw: unknown, contentType: string | null | undefined): unknown {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== "string") return raw; // already parsed (openapi-fetch parses error bodies)
  if (raw.trim() === "") return undefined;
  const saysJson = /[/+]json\b/i.test(contentType ?? "");
  const looksJson = /^\s*[[{"\d-]|^\s*(true|false|null)\s*$/.test(raw);
  if (saysJson || looksJson) {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}
