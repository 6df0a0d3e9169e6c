/**
 * Run by test/transport/https-transport.test.ts in a child process started with
 * NODE_EXTRA_CA_CERTS (read only at process start) naming the loopback test certificate: two GETs
 * through the engine's transport to the URL in argv, their statuses and bodies printed as JSON.
 */
import { nodeHttpTransport } from "../../../engine/transport/http-transport.ts";

const url = process.argv[2]!;
const transport = nodeHttpTransport();
const answers = [];
for (let i = 0; i < 2; i++) {
  const answer = await transport({ method: "GET", url, headers: { accept: "application/json" } });
  answers.push({ status: answer.status, text: answer.text });
}
process.stdout.write(JSON.stringify(answers));
process.exit(0);
