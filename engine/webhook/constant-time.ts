import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Byte comparison whose duration does not depend on where the inputs first differ.
 * `timingSafeEqual` throws on unequal lengths, so a length mismatch still runs one comparison
 * of the expected value against itself: the caller pays the same work either way.
 */
export function constantTimeEqual(expected: Buffer, actual: Buffer): boolean {
  const sameLength = expected.length === actual.length;
  const equal = timingSafeEqual(expected, sameLength ? actual : expected);
  return sameLength && equal;
}

/**
 * String comparison for secrets whose length is itself secret (shared tokens): both sides are
 * hashed first, so neither the content nor the length leaks through timing.
 */
export function constantTimeEqualString(expected: string, actual: string): boolean {
  const a = createHash("sha256").update(expected, "utf8").digest();
  const b = createHash("sha256").update(actual, "utf8").digest();
  return timingSafeEqual(a, b);
}
