/**
 * The files `c2c new <vendor>` writes: a bundle that validates and whose fixtures pass at once,
 * small enough to read in a minute, with every placeholder the author must replace marked.
 */
import { fileURLToPath } from "node:url";
import { relative } from "node:path";

/** schemas/ of this repository, for the editor modelines. */
export const SCHEMAS_DIR = fileURLToPath(new URL("../../schemas/", import.meta.url));

export interface ScaffoldInput {
  /** Folder name and vendor.id, e.g. "acme". */
  id: string;
  /** Absolute path of the bundle folder (modelines are relative to it). */
  bundleDir: string;
  /** How the README names the folder (e.g. "mappings/acme"). */
  displayDir?: string;
  /** Also scaffold a `webhooks` section (HMAC-signed deliveries, a challenge handshake) and a signed webhook fixture. */
  webhook?: boolean;
}

/** vendor.id rules: lower-case letters, digits and dashes, as folder and artifact names. */
export const VENDOR_ID = /^[a-z][a-z0-9-]{0,62}$/;

export function displayName(id: string): string {
  return id
    .split("-")
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join(" ");
}

function modeline(fromDir: string, schema: string): string {
  const rel = relative(fromDir, SCHEMAS_DIR + schema).split("\\").join("/");
  return `# yaml-language-server: $schema=${rel}`;
}

/** X-Acme-Cloud for "acme-cloud": the made-up header prefix of the scaffold's vendor. */
function headerPrefix(id: string): string {
  return "X-" + id.split("-").filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join("-");
}

/** ACME_CLOUD_WEBHOOK_SECRET for "acme-cloud". */
export function webhookSecretEnv(id: string): string {
  return `${id.toUpperCase().replace(/-/g, "_")}_WEBHOOK_SECRET`;
}

/** The `webhooks` section: replace the header names, the signed string and the event fields with the vendor's. */
function webhookSection(id: string): string {
  const h = headerPrefix(id);
  return `
# Device events the vendor pushes (docs/authoring-guide.md, "Webhooks and events"). The bundle gets
# a public function URL: every delivery must prove it comes from the vendor.
webhooks:
  verify:
    # Here: hex HMAC-SHA256 of "<timestamp>.<raw body>" in ${h}-Signature, keyed with the webhook
    # secret the vendor gave you (from the environment, or Secrets Manager with secretsManager: true).
    scheme: hmac
    algorithm: sha256
    encoding: hex
    header: ${h}-Signature
    prefix: "sha256="
    signed: timestamp.body
    timestampHeader: ${h}-Timestamp
    toleranceSeconds: 300
    secret: { env: ${webhookSecretEnv(id)} }
  handshakes:
    # The vendor checks the endpoint when the subscription is made: echo its challenge.
    - when: "body.type = 'url_verification'"
      respond: { status: 200, body: "{ 'challenge': body.challenge }" }
  # One delivery carries a list of events; each expression below reads one event.
  events: events
  # A redelivered event (same id) is not sent twice.
  eventId: event_id
  userId: user_id
  deviceId: device.id
  # Shaped like the discovery device, so the profile's attribute reads apply (partial is fine).
  state: device
`;
}

function webhookFiles(id: string, bundleDir: string, connectorId: string): Record<string, string> {
  const secretEnv = webhookSecretEnv(id);
  const h = headerPrefix(id);
  return {
    "tests/webhook-power-changed.yaml": `${modeline(bundleDir + "/tests", "fixture.schema.json")}
name: A signed power event becomes a DEVICE_EVENT with OnOff = false
# A test secret only: the runner signs the delivery with it, as the vendor would.
env: { ${secretEnv}: fixture-webhook-secret, C2C_CONNECTOR_ID: ${connectorId} }
webhook:
  path: /webhook
  body:
    events:
      - { event_id: evt-1, type: device.power, user_id: user-0001, device: { id: plug-1, type: plug, power: "off" } }
  sign: { scheme: hmac, algorithm: sha256, encoding: hex, header: ${h}-Signature, prefix: "sha256=", timestampHeader: ${h}-Timestamp, secretEnv: ${secretEnv} }
vendor: []
expect:
  http: { status: 200, body: { status: ok, received: 1, sent: 1 } }
  events:
    - ConnectorId: ${connectorId}
      Operation: DEVICE_EVENT
      OperationVersion: "1.0"
      StatusCode: 200
      UserId: user-0001
      ConnectorDeviceId: plug-1
      MatterEndpoint:
        id: "1"
        clusters:
          - id: "0x0006"
            attributes: { "0x0000": false }
`,
    "tests/webhook-forged.yaml": `${modeline(bundleDir + "/tests", "fixture.schema.json")}
name: A delivery not signed with the webhook secret is refused (401) and sends nothing
env: { ${secretEnv}: fixture-webhook-secret, C2C_CONNECTOR_ID: ${connectorId} }
webhook:
  path: /webhook
  headers: { ${h}-Timestamp: "1700000000", ${h}-Signature: "sha256=0000000000000000000000000000000000000000000000000000000000000000" }
  body:
    events:
      - { event_id: evt-2, type: device.power, user_id: user-0001, device: { id: plug-1, type: plug, power: "on" } }
vendor: []
expect:
  http: { status: 401 }
  events: []
`,
  };
}

/** Relative path -> content. */
export function scaffoldFiles({ id, bundleDir, displayDir = `mappings/${id}`, webhook = false }: ScaffoldInput): Record<string, string> {
  const name = displayName(id);
  const host = `${id}.example`;
  const connectorId = `${id}-connector`;
  const files: Record<string, string> = {};

  files["connector.yaml"] = `${modeline(bundleDir, "editor/connector.schema.json")}
#
# ${name} cloud -> managed integrations. Start from the vendor's API documentation and replace every
# "${host}" address, path and field name below with what the vendor documents
# (docs/authoring-guide.md walks through it). Check as you go: c2c validate ${id} && c2c test ${id}
apiVersion: c2c.mapping/v1
vendor:
  id: ${id}
  name: ${name}
  documentation: https://developer.${host}/docs

oauth:
  authorizationUrl: https://auth.${host}/oauth/authorize
  tokenUrl: https://auth.${host}/oauth/token
  scopes: [devices]
  # How the vendor wants client_id/client_secret in the token request: HTTP_BASIC or REQUEST_BODY_CREDENTIALS.
  tokenEndpointAuthMethod: HTTP_BASIC

api:
  baseUrl: https://api.${host}/v1
  # Per-attempt cap; MI waits 2 s for the answer to each request.
  timeoutMs: 1500

calls:
  listDevices:
    method: GET
    path: /devices
  setPower:
    method: PUT
    path: /devices/{id}/power
    pathParams:
      id: deviceId

operations:
  activateUser:
    # The user id must be stable for the vendor account: 1-64 of [a-zA-Z0-9_.,@-].
    requests:
      - use: listDevices
        name: devices
    userId: responses.devices.user.id

  discoverDevices:
    list:
      use: listDevices
    # Expressions here read the response body of the list call.
    devices: devices
    userId: response.user.id
    device:
      id: id
      name: name
      model: model

  # Reads one device before a command (its profile, its current state) and answers ReadState.
  getDevice:
    request:
      method: GET
      path: /devices/{id}
      pathParams:
        id: deviceId
    device: "$"

  deactivateUser:
    requests: []

profiles:
  plug:
    description: Smart plugs that switch on and off
    match: "type = 'plug'"
    endpoints:
      - id: "1"
        deviceTypes: [On/Off Plug-in Unit]
        clusters:
          OnOff:
            attributes:
              # Over the vendor's device JSON.
              OnOff: "power = 'on'"
            commands:
              # Over the context: fields (command fields), device (from getDevice), settings, ...
              "Off":
                use: setPower
                body: "{ 'power': 'off' }"
                confirms: { OnOff: "false" }
              "On":
                use: setPower
                body: "{ 'power': 'on' }"
                confirms: { OnOff: "true" }
              Toggle:
                use: setPower
                body: "{ 'power': device.power = 'on' ? 'off' : 'on' }"
                confirms: { OnOff: "device.power != 'on'" }
${webhook ? webhookSection(id) : ""}`;
  if (webhook) Object.assign(files, webhookFiles(id, bundleDir, connectorId));

  files["tests/data/devices.json"] =
    JSON.stringify(
      {
        user: { id: "user-0001" },
        devices: [{ id: "plug-1", name: "Desk lamp plug", type: "plug", model: "Acme Plug", power: "on" }],
      },
      null,
      2,
    ) + "\n";

  files["tests/data/plug.json"] =
    JSON.stringify({ id: "plug-1", name: "Desk lamp plug", type: "plug", model: "Acme Plug", power: "on" }, null, 2) + "\n";

  files["tests/send-command-off.yaml"] = `${modeline(bundleDir + "/tests", "fixture.schema.json")}
name: "Off: PUT power off, reported with OnOff = false"
request:
  header: { auth: { type: OAuth2.0, token: replaced-by-the-runner } }
  payload:
    operationName: AWS.SendCommand
    operationVersion: "1.0"
    connectorId: ${connectorId}
    connectorDeviceId: plug-1
    traceId: trace-off-1
    endpoints:
      - id: "1"
        clusters: [{ id: "0x0006", commands: [{ "0x00": {} }] }]
vendor:
  # getDevice: the device's current state picks its profile.
  - request: { method: GET, path: /v1/devices/plug-1 }
    response: { status: 200, bodyFile: data/plug.json }
  - request: { method: PUT, path: /v1/devices/plug-1/power, body: { power: "off" } }
    response: { status: 200, body: { ok: true } }
  # activateUser's requests: the user id for the event (cached afterwards for this token).
  - request: { method: GET, path: /v1/devices }
    response: { status: 200, bodyFile: data/devices.json }
expect:
  ack:
    header: { responseCode: 200 }
  events:
    - ConnectorId: ${connectorId}
      Operation: DEVICE_COMMAND_RESPONSE
      TraceId: trace-off-1
      ConnectorDeviceId: plug-1
      UserId: user-0001
      StatusCode: 200
      MatterEndpoint:
        id: "1"
        clusters:
          - id: "0x0006"
            attributes: { "0x0000": false }
            commands: { "0x00": { responseCode: 200 } }
`;

  files["tests/activate-user.yaml"] = `${modeline(bundleDir + "/tests", "fixture.schema.json")}
name: ActivateUser answers the account's user id
request:
  header: { auth: { type: OAuth2.0, token: replaced-by-the-runner } }
  payload: { operationName: AWS.ActivateUser, operationVersion: "1.0.0", connectorId: ${connectorId} }
vendor:
  - request: { method: GET, path: /v1/devices }
    response: { status: 200, bodyFile: data/devices.json }
expect:
  ack:
    header: { responseCode: 200 }
    payload: { userId: user-0001 }
  events: []
`;

  files["tests/discover-devices.yaml"] = `${modeline(bundleDir + "/tests", "fixture.schema.json")}
name: DiscoverDevices reports the plug with its on/off state
request:
  header: { auth: { type: OAuth2.0, token: replaced-by-the-runner } }
  payload:
    operationName: AWS.DiscoverDevices
    operationVersion: "1.0"
    connectorId: ${connectorId}
    deviceDiscoveryId: "1001"
vendor:
  - request: { method: GET, path: /v1/devices }
    response: { status: 200, bodyFile: data/devices.json }
expect:
  ack:
    header: { responseCode: 200 }
  events:
    - ConnectorId: ${connectorId}
      Operation: DEVICE_DISCOVERY
      DeviceDiscoveryId: "1001"
      UserId: user-0001
      StatusCode: 200
      Devices:
        - ConnectorDeviceId: plug-1
          ConnectorDeviceName: Desk lamp plug
          DeviceMetadata: { Model: Acme Plug }
          CapabilityReport:
            version: "1.0.0"
            endpoints:
              - id: "1"
                deviceTypes: [On/Off Plug-in Unit]
                clusters:
                  - id: "0x0006"
                    attributes: [{ id: "0x0000", value: true }]
                    commands: ["0x00", "0x01", "0x02"]
`;

  files["requests/activate-user.json"] =
    JSON.stringify(
      {
        header: { auth: { type: "OAuth2.0", token: "replaced-by-the-runner" } },
        payload: { operationName: "AWS.ActivateUser", operationVersion: "1.0.0", connectorId },
      },
      null,
      2,
    ) + "\n";

  files["requests/discover-devices.json"] =
    JSON.stringify(
      {
        header: { auth: { type: "OAuth2.0", token: "replaced-by-the-runner" } },
        payload: { operationName: "AWS.DiscoverDevices", operationVersion: "1.0", connectorId, deviceDiscoveryId: "1001" },
      },
      null,
      2,
    ) + "\n";

  files["requests/send-command-off.json"] =
    JSON.stringify(
      {
        header: { auth: { type: "OAuth2.0", token: "replaced-by-the-runner" } },
        payload: {
          operationName: "AWS.SendCommand",
          operationVersion: "1.0",
          connectorId,
          connectorDeviceId: "plug-1",
          traceId: "trace-off-1",
          endpoints: [{ id: "1", clusters: [{ id: "0x0006", commands: [{ "0x00": {} }] }] }],
        },
      },
      null,
      2,
    ) + "\n";

  files["README.md"] = `# ${name} connector bundle

Maps the ${name} cloud API to managed integrations for AWS IoT Device Management.

- \`connector.yaml\`: the mapping (schema: \`schemas/mapping.schema.json\`; your editor completes it, Matter names included, through the modeline and \`schemas/editor/connector.schema.json\`).
- \`tests/*.yaml\`: fixture tests: an MI request, the vendor exchanges it causes, the expected ACK and events.
- \`requests/*.json\`: MI requests to try with \`c2c invoke\`.

Write down where each vendor fact comes from (documentation page, recorded response) in a
\`RESEARCH.md\` next to this file, as the bundles under \`mappings/\` do.

\`\`\`sh
npx c2c validate ${id}
npx c2c test ${id}
npx c2c invoke ${id} ${displayDir}/requests/discover-devices.json --trace
npx c2c docs ${id}
\`\`\`

See docs/authoring-guide.md.
`;
  return files;
}
