/**
 * The MI emulator in its own process, for the events-per-second figure: its signature checks and
 * schema validation then do not compete for the CPU with the sender being measured.
 * Prints `{"url": ...}` on stdout when listening; answers "count" on stdin with the events received.
 */
import { startMiEmulator } from "../engine/local/mi-emulator.ts";

const mi = await startMiEmulator({ region: process.env.AWS_REGION ?? "us-east-1" });
process.stdout.write(JSON.stringify({ url: mi.url }) + "\n");
process.stdin.setEncoding("utf8");
process.stdin.on("data", (line: string) => {
  if (line.trim() === "count") {
    process.stdout.write(JSON.stringify({ events: mi.events.length, rejected: mi.rejected.length }) + "\n");
    mi.reset();
  }
});
process.stdin.on("end", () => void mi.close().then(() => process.exit(0)));
