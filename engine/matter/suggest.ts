/**
 * "Did you mean" hints for validation errors: the candidates closest to a misspelt name.
 */

/**
 * Normalises a Matter name for comparison: case-insensitive, ignoring spaces, slashes, hyphens
 * and underscores, so "On/Off", "on-off" and "OnOff" are the same name.
 */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[\s/\-_]+/g, "");
}

/**
 * Returns up to `limit` candidates closest to `name` by edit distance over normalised names,
 * best first (ties keep candidate order). Candidates further away than roughly a third of the
 * name's length are dropped so the hint never proposes something unrelated.
 */
export function suggest(name: string, candidates: Iterable<string>, limit = 3): string[] {
  const wanted = normalizeName(name);
  if (wanted.length === 0) return [];
  const maxDistance = Math.max(2, Math.floor(wanted.length / 3));
  const scored: { candidate: string; distance: number; order: number }[] = [];
  const seen = new Set<string>();
  let order = 0;
  for (const candidate of candidates) {
    if (seen.has(candidate)) continue;
    seen.add(candidate);
    const normalized = normalizeName(candidate);
    // A substring match ("Level" -> "LevelControl") is a good hint even when the edit distance
    // is large; very short names would contain-match almost everything, so they don't count.
    const contained = wanted.length >= 4 && normalized.length >= 4 && (normalized.includes(wanted) || wanted.includes(normalized));
    const distance = contained
        ? Math.min(editDistance(wanted, normalized), maxDistance)
        : editDistance(wanted, normalized);
    if (distance <= maxDistance) scored.push({ candidate, distance, order: order++ });
  }
  scored.sort((a, b) => a.distance - b.distance || a.order - b.order);
  return scored.slice(0, limit).map((s) => s.candidate);
}

/** Levenshtein distance (insert, delete, substitute all cost 1). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
    }
    previous = current;
  }
  return previous[b.length];
}
