/**
 * A summary of a V8 .cpuprofile (`node --cpu-prof`): self time by module and the busiest
 * functions, so the bench output says where a cold start's CPU goes without opening DevTools.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  modules: Array<{ module: string; selfMs: number }>;
  functions: Array<{ name: string; where: string; selfMs: number }>;
}

/** Where a frame's code lives, in words: the artifact, one of its chunks, Node itself, or V8. */
function moduleOf(url: string, functionName: string, root: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  if (url.startsWith("node:")) return url.startsWith("node:internal/deps/undici") ? "node: undici (fetch)" : `node: ${url.slice(5).split("/").slice(0, 2).join("/")}`;
  const file = url.startsWith("file:") ? fileURLToPath(url) : url;
  const rel = path.relative(root, file);
  if (rel.startsWith(`dist${path.sep}`)) return rel.includes(`${path.sep}chunks${path.sep}`) ? "artifact: lazily loaded chunk" : `artifact: ${rel.split(path.sep).slice(1).join("/")}`;
  return rel.startsWith("..") ? file : rel;
}

export function summarizeProfile(profile: CpuProfile, root: string, top = 12): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const modules = new Map<string, number>();
  const functions = new Map<string, { name: string; where: string; us: number }>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const { callFrame: f } = byId.get(id)!;
    if (f.functionName === "(idle)") continue; // waiting for the loopback servers, not CPU
    total += us;
    const mod = moduleOf(f.url, f.functionName, root);
    modules.set(mod, (modules.get(mod) ?? 0) + us);
    const key = `${f.functionName}@${f.url}:${f.lineNumber}:${f.columnNumber}`;
    const entry = functions.get(key) ?? { name: f.functionName || "(anonymous)", where: f.url ? `${mod}:${f.lineNumber + 1}:${f.columnNumber + 1}` : mod, us: 0 };
    entry.us += us;
    functions.set(key, entry);
  }
  const ms = (us: number) => Math.round(us / 100) / 10;
  return {
    totalMs: ms(total),
    modules: [...modules].sort((a, b) => b[1] - a[1]).slice(0, top).map(([module, us]) => ({ module, selfMs: ms(us) })),
    functions: [...functions.values()].sort((a, b) => b.us - a.us).slice(0, top).map((f) => ({ name: f.name, where: f.where, selfMs: ms(f.us) })),
  };
}
