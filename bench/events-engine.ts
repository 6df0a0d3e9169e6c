/**
 * The engine's sender for bench (f), as the artifact ships it: bench/events.ts bundles this entry
 * with the artifact's esbuild options (minified, no keepNames), not through tsx, whose keepNames
 * transform wraps every closure the client creates per request in a defineProperty call.
 *
 * The client is the one the engine's handler makes (engine/handler/create-handler.ts): a
 * redacting logger at the default level (info), whose sink here drops what would be written.
 */
import { RedactingLogger } from "../engine/log/json-logger.ts";
import { SecretRegistry } from "../engine/log/redact.ts";
import { SendConnectorEventClient } from "../engine/mi/client.ts";
import type { SendConnectorEventInput } from "../engine/mi/send-connector-event.ts";

export function eventSender(endpoint: string, region: string): (event: SendConnectorEventInput) => Promise<unknown> {
  const logger = new RedactingLogger(() => {}, new SecretRegistry(), {}, "info");
  const client = new SendConnectorEventClient({ endpoint, region, logger, maxAttempts: 1 });
  return (event) => client.send(event);
}
