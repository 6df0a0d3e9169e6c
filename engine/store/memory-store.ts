import type { StateStore } from "./store.ts";
import { checkKey, checkTtl, decodeValue, encodeValue } from "./codec.ts";

export interface MemoryStateStoreOptions {
  /** Clock in epoch milliseconds; injectable so tests can move time. */
  now?: () => number;
  /** Upper bound on entries: a warm container must not grow without limit. */
  maxEntries?: number;
}

interface Entry {
  text: string;
  /** Epoch ms at which the entry stops existing; undefined = no expiry. */
  expiresAt?: number;
}

export const DEFAULT_MAX_ENTRIES = 100_000;

/**
 * Per-container state. Expired entries are dropped lazily when touched; above `maxEntries` the
 * least recently used entry goes first (a Map iterates in insertion order, and every access
 * re-inserts its key, so the first key is always the least recently used).
 */
export class MemoryStateStore implements StateStore {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(options: MemoryStateStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    const max = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    if (!Number.isInteger(max) || max < 1) throw new RangeError("maxEntries must be a positive integer");
    this.maxEntries = max;
  }

  /** Number of entries currently held, expired-but-not-yet-evicted ones included. */
  get size(): number {
    return this.entries.size;
  }

  async putIfAbsent(key: string, value: unknown, ttlSeconds: number): Promise<boolean> {
    checkKey(key);
    const ttl = checkTtl(ttlSeconds, true);
    const text = encodeValue(value);
    // No await between the check and the write: the event loop makes this atomic.
    if (this.live(key)) return false;
    this.write(key, text, ttl);
    return true;
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    checkKey(key);
    const entry = this.live(key);
    if (!entry) return undefined;
    this.touch(key, entry);
    return decodeValue<T>(entry.text);
  }

  async increment(key: string, delta: number, ttlSeconds: number): Promise<number> {
    checkKey(key);
    const ttl = checkTtl(ttlSeconds, true);
    if (!Number.isFinite(delta)) throw new RangeError("increment: delta must be a finite number");
    // No await between the read and the write: the event loop makes this atomic.
    const entry = this.live(key);
    const current = entry ? Number(decodeValue<number>(entry.text)) || 0 : 0;
    const next = current + delta;
    if (entry) {
      entry.text = encodeValue(next);
      this.touch(key, entry);
    } else this.write(key, encodeValue(next), ttl);
    return next;
  }

  async put(key: string, value: unknown, ttlSeconds?: number): Promise<void> {
    checkKey(key);
    const ttl = checkTtl(ttlSeconds, false);
    this.write(key, encodeValue(value), ttl);
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    this.entries.delete(key);
  }

  /** The entry if present and unexpired; an expired one is evicted on the way. */
  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && this.now() >= entry.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private touch(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
  }

  private write(key: string, text: string, ttlSeconds: number | undefined): void {
    const entry: Entry = { text };
    if (ttlSeconds !== undefined) entry.expiresAt = this.now() + ttlSeconds * 1000;
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
