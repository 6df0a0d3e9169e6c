/**
 * Where the CLI writes and how it decorates: every command gets this instead of touching
 * process.stdout, so tests run the CLI in-process and read what it printed.
 */
import pc from "picocolors";

export interface OutStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface CliIo {
  stdout: OutStream;
  stderr: OutStream;
  /** Folder that relative bundle paths and the default `mappings` folder are resolved against. */
  cwd: string;
  /** Environment read for NO_COLOR (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
}

export type Colors = ReturnType<typeof pc.createColors>;

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function colorsFor(stream: OutStream, env: NodeJS.ProcessEnv = process.env): Colors {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== "";
  return pc.createColors(stream.isTTY === true && !noColor);
}

/** A stream with `line()` and its colours, so commands stay short. */
export class Printer {
  readonly c: Colors;

  constructor(
    readonly stream: OutStream,
    env?: NodeJS.ProcessEnv,
  ) {
    this.c = colorsFor(stream, env);
  }

  get colored(): boolean {
    return this.c.isColorSupported;
  }

  line(text = ""): void {
    this.stream.write(text + "\n");
  }
}

export interface CliConsole {
  out: Printer;
  err: Printer;
  cwd: string;
  /** The environment the command reads its settings from (C2C_MI_ENDPOINT, AWS_REGION, ...). */
  env: NodeJS.ProcessEnv;
}

export function consoles(io: CliIo): CliConsole {
  return { out: new Printer(io.stdout, io.env), err: new Printer(io.stderr, io.env), cwd: io.cwd, env: io.env ?? process.env };
}

/** Thrown by commands for an expected failure: the message is printed, the process exits with `code`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}
