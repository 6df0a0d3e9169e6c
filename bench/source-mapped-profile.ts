/**
 * Rewrites the call frames of a V8 .cpuprofile that fall in a built (minified) artifact to the
 * TypeScript source they came from, through the artifact's source map (node:module SourceMap), so
 * a profile summary names `engine/runtime/device-model.ts:120` instead of `index.mjs:31:12942`.
 */
import { readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

interface Frame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

export function sourceMapped<P extends { nodes: Array<{ callFrame: Frame }> }>(profile: P, root: string): P {
  const maps = new Map<string, SourceMap | null>();
  const mapOf = (url: string): SourceMap | null => {
    if (!maps.has(url)) {
      let map: SourceMap | null = null;
      try {
        map = new SourceMap(JSON.parse(readFileSync(fileURLToPath(url) + ".map", "utf8")));
      } catch {
        map = null;
      }
      maps.set(url, map);
    }
    return maps.get(url)!;
  };
  for (const node of profile.nodes) {
    const f = node.callFrame;
    if (!f.url.startsWith("file:") || !f.url.endsWith(".mjs")) continue;
    const map = mapOf(f.url);
    const entry = map?.findEntry(f.lineNumber, f.columnNumber) as { originalSource?: string; originalLine?: number; originalColumn?: number; name?: string } | undefined;
    if (!entry?.originalSource) continue;
    const source = entry.originalSource.startsWith("file:") ? fileURLToPath(entry.originalSource) : path.resolve(path.dirname(fileURLToPath(f.url)), entry.originalSource);
    node.callFrame = {
      functionName: `${f.functionName}${entry.name && entry.name !== f.functionName ? `(${entry.name})` : ""}`,
      url: path.relative(root, source).startsWith("..") ? source : path.join(root, path.relative(root, source)),
      lineNumber: entry.originalLine ?? 0,
      columnNumber: entry.originalColumn ?? 0,
    };
  }
  return profile;
}
