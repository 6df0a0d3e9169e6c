import { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import type { Logger, LogLevel } from "./logger.ts";
import { redact, SecretRegistry } from "./redact.ts";
import { logContext } from "./context.ts";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A log line as handed to a sink (after redaction). */
export interface LogRecord {
  level: LogLevel;
  message: string;
  [field: string]: unknown;
}

export type LogSink = (record: LogRecord) => void;

/**
 * Logger that redacts, then hands the record to a sink. The default sink is AWS Lambda Powertools'
 * logger (structured JSON on stdout, Lambda context fields, POWERTOOLS_LOG_LEVEL); tests and the
 * CLI pass their own sink.
 */
export class RedactingLogger implements Logger {
  constructor(
    private readonly sink: LogSink,
    private readonly secrets: SecretRegistry = new SecretRegistry(),
    private readonly base: Record<string, unknown> = {},
    private readonly minLevel: LogLevel = "debug",
  ) {}

  isLevelEnabled(level: LogLevel): boolean {
    return ORDER[level] >= ORDER[this.minLevel];
  }

  private write(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (ORDER[level] < ORDER[this.minLevel]) return;
    // The correlation ids of the unit of work in progress come first: a line's own fields may refine them.
    const safe = redact({ ...logContext(), ...this.base, ...(fields ?? {}) }, this.secrets) as Record<string, unknown>;
    this.sink({ ...safe, level, message: this.secrets.scrub(message) });
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.write("debug", message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.write("info", message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.write("warn", message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.write("error", message, fields);
  }
  child(fields: Record<string, unknown>): Logger {
    return new RedactingLogger(this.sink, this.secrets, { ...this.base, ...fields }, this.minLevel);
  }
  /** Secrets registered here are masked in every line of this logger and its children. */
  get secretRegistry(): SecretRegistry {
    return this.secrets;
  }
}

/** `C2C_LOG_LEVEL` (what the template's LogLevel parameter sets) as a level; anything else is info. */
export function logLevelFrom(value: string | undefined): LogLevel {
  const v = (value ?? "").trim().toLowerCase();
  return v === "debug" || v === "info" || v === "warn" || v === "error" ? v : "info";
}

/**
 * Powertools writes what the RedactingLogger lets through: the level is decided there (from
 * C2C_LOG_LEVEL), so Powertools' own threshold is opened to the same level; otherwise its default
 * (INFO, or POWERTOOLS_LOG_LEVEL) would silently drop debug lines.
 */
export function powertoolsSink(serviceName = "c2c-connector", level: LogLevel = "debug"): LogSink {
  const pt = new PowertoolsLogger({ serviceName, logLevel: level.toUpperCase() as "DEBUG" });
  return ({ level, message, ...fields }) => pt[level](message, fields);
}

/** Collects records in memory: for tests and for the CLI's --trace. */
export function memorySink(records: LogRecord[]): LogSink {
  return (r) => records.push(r);
}

/**
 * Writes nothing, so it does nothing: no line is built or redacted for a sink that drops it (the
 * MI and vendor clients' default, benches). Redaction is for lines that are written.
 */
class SilentLogger implements Logger {
  debug(): void {}
  info(): void {}
  warn(): void {}
  error(): void {}
  child(): Logger {
    return this;
  }
  isLevelEnabled(): boolean {
    return false;
  }
}

export const silentLogger: Logger = new SilentLogger();
