/**
 * Structured logging. Every field passes through `redact` before it is written, so tokens,
 * secrets and user ids never reach a log line (DEVELOPERS.md "Secrets never reach a log").
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A child logger whose lines carry `fields` too. */
  child(fields: Record<string, unknown>): Logger;
  /**
   * Whether a line at `level` would be written. Hot paths ask before building a line's fields
   * (a debug line per event costs an object and its redaction even when debug is off); a logger
   * without this method writes every level.
   */
  isLevelEnabled?(level: LogLevel): boolean;
}
