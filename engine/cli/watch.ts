/**
 * `--watch` for `c2c test` and `c2c validate`, live reload for `c2c dev`: runs a callback after
 * files under some folders change. Editors save in bursts (temp file, rename, chmod), so changes
 * are debounced, and a run never overlaps the previous one.
 */
import { watch, type FSWatcher } from "node:fs";
import { join } from "node:path";

export const WATCH_DEBOUNCE_MS = 150;

/** Calls `onChange(path)` after changes settle, until `until` resolves (default: Ctrl-C). */
export async function watchFolders(
  dirs: string[],
  until: Promise<unknown> | undefined,
  onChange: (changed: string) => Promise<void>,
  debounceMs = WATCH_DEBOUNCE_MS,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let last = "";
  const fire = () => {
    const changed = last;
    running = running.then(() => onChange(changed)).catch(() => undefined);
  };
  const watchers: FSWatcher[] = dirs.map((dir) =>
    watch(dir, { recursive: true }, (_event, name) => {
      last = name ? join(dir, String(name)) : dir;
      clearTimeout(timer);
      timer = setTimeout(fire, debounceMs);
    }),
  );
  try {
    await (until ?? interrupted());
  } finally {
    clearTimeout(timer);
    for (const w of watchers) w.close();
    await running;
  }
}

/** Resolves on Ctrl-C or SIGTERM. */
export function interrupted(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
