/* Generated from schemas/mapping.schema.json by scripts/generate-mapping-types.ts. Do not edit: edit the schema and run `npm run generate`. */

/**
 * A JSONata expression. Parsed when the bundle is validated; compiled once per container.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "expression".
 */
export type Expression = string
/**
 * A JSONata expression (string) or a literal number, boolean or null.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "value".
 */
export type Value = (string | number | boolean | null)
/**
 * Error rules (see errorRule), tried in order on every answer of the call.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "errorRules".
 */
export type ErrorRules = ErrorRule[]
/**
 * Vendor requests made in order; each response is kept in `responses` under the call's name.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "calls".
 */
export type Calls = Call[]
/**
 * A Matter attribute of a cluster: a read expression (string shorthand) or an object with read, constant value and/or write.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "attribute".
 */
export type Attribute = (Expression | {
read?: Expression
/**
 * A constant Matter value (for fixed attributes such as MinLevel).
 */
value?: (string | number | boolean | null | unknown[] | {

})
write?: Command
})

/**
 * A C2C connector mapping bundle (connector.yaml): how one vendor cloud maps onto managed integrations for AWS IoT Device Management. Every string called an expression is JSONata, evaluated against the context documented in the README (request, token, secret, settings, responses, response, device, deviceId, endpointId, command, fields, value, attributes, page).
 */
export interface ConnectorMapping {
/**
 * Optional pointer to this schema, for editors.
 */
$schema?: string
/**
 * Format version of this file. The engine refuses versions it does not know; migrations between versions are documented in the README.
 */
apiVersion: "c2c.mapping/v1"
/**
 * Who the vendor is.
 */
vendor: {
/**
 * Short machine name; also the bundle folder name and the artifact name.
 */
id: string
/**
 * Human name of the vendor.
 */
name: string
/**
 * Where the vendor API is documented.
 */
documentation?: string
}
/**
 * Bundle-wide constants, available to every expression as `settings`.
 */
settings?: {
[k: string]: unknown
}
oauth?: Oauth
generalAuthorization?: GeneralAuthorization
api: Api
/**
 * Named vendor requests, reusable from operations and commands with `use: <name>`.
 */
calls?: {
[k: string]: Call
}
operations: Operations
/**
 * Device kinds. A vendor device takes the first profile (in file order) whose `match` is true.
 */
profiles: {
[k: string]: Profile
}
webhooks?: Webhooks
account?: Account
polling?: Polling
}
/**
 * OAuth 2.0 authorization-code settings of the vendor. MI performs the OAuth flow; these values generate the CreateConnectorDestination request so the two never drift.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "oauth".
 */
export interface Oauth {
/**
 * The vendor's authorization endpoint. `{settings.<name>}` placeholders are replaced by the bundle's settings (for a region or tenant written once).
 */
authorizationUrl: string
/**
 * The vendor's token endpoint. `{settings.<name>}` placeholders are replaced by the bundle's settings.
 */
tokenUrl: string
/**
 * Scopes requested at linking (sent space-separated).
 */
scopes?: string[]
/**
 * How the client authenticates at the token endpoint: HTTP_BASIC (Authorization header), REQUEST_BODY_CREDENTIALS (form body), QUERY_STRING_CREDENTIALS (client_id and client_secret in the token URL's query string; MI cannot do this, `c2c registration` says so), NONE (a public client: client_id only, no secret is asked for).
 */
tokenEndpointAuthMethod: ("HTTP_BASIC" | "REQUEST_BODY_CREDENTIALS" | "QUERY_STRING_CREDENTIALS" | "NONE")
/**
 * Whether the vendor requires PKCE.
 */
pkce?: boolean
/**
 * Ask MI to renew refresh tokens this many days before expiry.
 */
proactiveRefreshDays?: number
/**
 * Extra query parameters of the authorization URL (offline access, consent prompt, audience); appended to `authUrl` in the registration.
 */
authorizationParams?: {
[k: string]: string
}
/**
 * Parameters the vendor wants in the query string of the token request (e.g. `grant_type`); appended to `tokenUrl` in the registration.
 */
tokenParams?: {
[k: string]: string
}
}
/**
 * For vendors without OAuth: MI passes a Secrets Manager reference; the engine reads the secret and authenticates vendor calls as declared here.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "generalAuthorization".
 */
export interface GeneralAuthorization {
/**
 * Name of the auth material in CreateConnectorDestination.
 */
authMaterialName: string
/**
 * How fields of the secret authenticate vendor calls.
 */
apply: {
/**
 * bearer: `Authorization: Bearer <field>`; basic: `Authorization: Basic base64(user:password)`; apiKeyHeader / apiKeyQuery: the field in a header or query parameter.
 */
scheme: ("bearer" | "basic" | "apiKeyHeader" | "apiKeyQuery")
/**
 * Secret field holding the token or API key.
 */
field?: string
/**
 * basic: secret field with the user name.
 */
usernameField?: string
/**
 * basic: secret field with the password.
 */
passwordField?: string
/**
 * apiKeyHeader / apiKeyQuery: header or parameter name.
 */
name?: string
}
}
/**
 * The vendor's REST API: where it is and how calls behave.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "api".
 */
export interface Api {
/**
 * Base URL every call path is appended to.
 */
baseUrl: string
/**
 * Path, relative to the bundle, of the vendor's OpenAPI document; every declared call is checked against it.
 */
openapi?: string
/**
 * How the OAuth access token is sent (default: `Authorization: Bearer <token>`).
 */
auth?: {
/**
 * Header or query parameter.
 */
in?: ("header" | "query")
/**
 * Header or parameter name.
 */
name?: string
/**
 * Text put before the token.
 */
prefix?: string
}
/**
 * Literal headers sent with every call.
 */
headers?: {
[k: string]: string
}
/**
 * Upper bound for one call; the engine also bounds it by what is left of the invocation.
 */
timeoutMs?: number
/**
 * Retry policy for 429 and 5xx answers and network errors; `Retry-After` is honoured within the time budget.
 */
retry?: {
/**
 * Attempts in all, the first included.
 */
maxAttempts?: number
/**
 * First backoff delay; doubles each attempt, with jitter.
 */
baseDelayMs?: number
/**
 * Largest delay between attempts.
 */
maxDelayMs?: number
/**
 * HTTP statuses that are retried.
 */
retryOn?: number[]
}
/**
 * Vendor HTTP status ("423") or error kind (`timeout`, `deadline`, `network`, `rejected`) -> response code reported to MI, in every operation, overriding the engine defaults (401->401, 403->403, 404->404, 429->429, 5xx->502, timeout->504). A code below 500 (other than 429) is final: discovery does not retry it in the background.
 */
statusMap?: {
[k: string]: number
}
/**
 * Hosts the connector may ever call. `*` matches one or more letters, digits or hyphens inside one DNS label (`*.api.acme.example`, `openapi*.acme-eu.example`). Required when a base URL comes from an expression (`baseUrlFrom`); when declared, every call's host (static or computed) must match, and any other host is refused before a byte is sent.
 * 
 * @minItems 1
 */
allowedHosts?: [string, ...(string)[]]
baseUrlFrom?: Expression
dynamicHeaders?: ValueMap
/**
 * Signs every call (unless the call says `sign: false`): an HMAC over a canonical string the bundle declares as an expression, sent in headers.
 */
signing?: {
/**
 * MAC algorithm (default HMAC-SHA256).
 */
algorithm?: "HMAC-SHA256"
/**
 * Where the signing key comes from: an environment variable (e.g. the OAuth client secret), a field of the General Authorization secret, or an account value.
 */
key: {
/**
 * Environment variable holding the key.
 */
env?: string
/**
 * Field of the General Authorization secret.
 */
secretField?: string
/**
 * Name of an account value (see `account.values`).
 */
account?: string
}
stringToSign: Expression
/**
 * How the MAC is written: hex (lower case, default), HEX (upper case), base64.
 */
encoding?: ("hex" | "HEX" | "base64")
headers: ValueMap
}
/**
 * Hard limits per invocation, answered with 400 and a message when exceeded. Defaults: 50 commands per SendCommand, 200 vendor requests (retries included) per invocation.
 */
limits?: {
/**
 * Most Matter commands (all endpoints and clusters together) one AWS.SendCommand may carry.
 */
commandsPerRequest?: number
/**
 * Most HTTP requests to the vendor one invocation may make, retries and pages included.
 */
vendorRequestsPerInvocation?: number
}
errors?: ErrorRules
quota?: Quota
}
/**
 * Names to values; each value is a JSONata expression (string) or a literal.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "valueMap".
 */
export interface ValueMap {
[k: string]: Value
}
/**
 * Classifies one vendor answer as an error, whatever its HTTP status (an error code inside a 200, a token-expired code inside a 500). Rules are tried in order, the call's own before `api.errors`; the first whose `when` is true decides, and the call is not retried.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "errorRule".
 */
export interface ErrorRule {
when: Expression
/**
 * The response code MI gets (ACK `responseCode`, event `StatusCode`).
 */
status: number
code?: Expression
message?: Expression
}
/**
 * A vendor rate limit the engine keeps to, across invocations and containers (counted in the state store): requests per minute and requests open at once. A call over the quota is not sent: a command is handed off to a deferred job that runs when the quota has room (its result still reaches MI as an event), discovery hands the devices not yet read off the same way; ActivateUser and DeactivateUser, which cannot be deferred, answer 429.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "quota".
 */
export interface Quota {
/**
 * Most requests within any 60 seconds (a sliding-window estimate over one-minute counters).
 */
requestsPerMinute?: number
/**
 * Most requests in flight at once.
 */
openRequests?: number
/**
 * Whose requests are counted together: `user` (default) counts per set of credentials a call is made with (the user's access token, or the General Authorization secret), as vendors that limit per token do; `connector` counts every user of the connector together, as vendors that limit per client application do.
 */
per?: ("user" | "connector")
}
/**
 * One vendor HTTP request. Either complete (method and path) or `use: <named call>` with overrides.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "call".
 */
export interface Call {
/**
 * Name of an entry in `calls` to start from; fields given here override it.
 */
use?: string
/**
 * Name under which the response body is kept in `responses` for later expressions (default: `use`).
 */
name?: string
/**
 * HTTP method.
 */
method?: ("GET" | "POST" | "PUT" | "PATCH" | "DELETE")
/**
 * Path appended to the base URL; `{name}` placeholders are filled from `pathParams`, URL-encoded, so no value can change the host or the path's shape.
 */
path?: string
/**
 * Overrides `api.baseUrl` for this call (for example an OAuth revoke endpoint on another host).
 */
baseUrl?: string
/**
 * Expressions for the path placeholders.
 */
pathParams?: {
[k: string]: Expression
}
query?: ValueMap
headers?: ValueMap
body?: Expression
form?: ValueMap
/**
 * token (default): the user's access token as `api.auth` says; none: no credentials; clientCredentials: HTTP basic auth with the client id and secret from the environment (C2C_OAUTH_CLIENT_ID / C2C_OAUTH_CLIENT_SECRET), for revocation endpoints.
 */
auth?: ("token" | "none" | "clientCredentials")
/**
 * Overrides `api.timeoutMs` for this call.
 */
timeoutMs?: number
success?: Expression
/**
 * Non-2xx statuses that count as success for this call (for example 404 on a revoke of an unknown token).
 */
acceptStatus?: number[]
pagination?: Pagination
/**
 * Sending this request twice has the same effect as sending it once (an absolute state write such as `{ 'on': true }`, not a toggle). A request that was sent but whose answer was lost (timeout) is re-sent once only when this is true and the command declares no `verify`; otherwise its outcome is reported as unknown (504). Default false.
 */
idempotent?: boolean
/**
 * Requests of this call made by several Matter commands or attribute writes of ONE MI request for the same device are sent as fewer requests, in the order of the MI request. `merge: deep` deep-merges the JSON bodies of requests to the same method, URL and query into one body (later commands win on conflicting leaves); `items: <field>` concatenates the arrays under that top-level body field, at most `max` items per request (other fields deep-merged). Only commands whose action is this single request are batched.
 */
batch?: ({
[k: string]: unknown
} & {
/**
 * Deep-merge the JSON bodies into one.
 */
merge?: "deep"
/**
 * Top-level body field holding an array: the items of every request are concatenated.
 */
items?: string
/**
 * With `items`: at most this many items per request (default 100); more make further requests.
 */
max?: number
})
baseUrlFrom?: Expression
/**
 * Whether `api.signing` applies to this call (default true when signing is declared).
 */
sign?: boolean
errors?: ErrorRules
quota?: Quota
}
/**
 * How a list call pages. cursor: a value from each response is sent back as a query parameter; page: a page number is incremented; link: the URL in the `Link: <...>; rel="next"` header is followed; url: `next` gives the next page's URL from the body (e.g. `_links.next.href`); request: `next` gives any value (a cursor, a page object) and the whole request is rebuilt from the call's expressions, which see it as `cursor`. Next-page URLs must stay on the first page's host: any other is refused. `maxPages` counts every page of the listing, across hand-offs.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "pagination".
 */
export interface Pagination {
/**
 * Pagination style.
 */
style: ("cursor" | "page" | "link" | "url" | "request")
/**
 * cursor / page: name of the query parameter carrying the cursor or page number.
 */
param?: string
next?: Expression
/**
 * page: number of the first page (default 1).
 */
start?: number
hasMore?: Expression
/**
 * Safety stop: pages in all, hand-offs included (default 1000).
 */
maxPages?: number
}
/**
 * How the four MI operations become vendor calls.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "operations".
 */
export interface Operations {
/**
 * AWS.ActivateUser: find the vendor's id of the linked user.
 */
activateUser: {
requests?: Calls
userId: Expression
}
/**
 * AWS.DiscoverDevices: list the user's devices; one DEVICE_DISCOVERY event is sent per vendor page.
 */
discoverDevices: {
requests?: Calls
list: Call
devices: Expression
userId: Expression
/**
 * Per vendor device (`device`): its identity in MI.
 */
device: {
id: Expression
name?: Expression
brand?: Expression
model?: Expression
nodeId?: Expression
metadata?: Expression
}
filterQuery?: ValueMap
/**
 * Per-device calls during discovery (a status call per listed device), made with bounded concurrency and rate, within the time budget; devices that do not fit are handed off with the rest of the listing. `device` then joins each listed device with its responses, and the capability report carries the current values.
 */
perDevice?: {
requests: Calls
device: Expression
/**
 * Devices fetched at once (default 4).
 */
concurrency?: number
/**
 * Most per-device requests started per second (default: no limit).
 */
ratePerSecond?: number
}
}
/**
 * Reads one device's current vendor state (`deviceId` is set): used to pick the profile for AWS.SendCommand (when it was not recorded at discovery) and to answer ReadState. Either one `request` (`device` is evaluated over its body) or several named `requests` (`device` is evaluated over the context, each body under `responses.<name>`), for state spread over several resources.
 */
getDevice?: {
request?: Call
device: Expression
requests?: Calls
}
/**
 * AWS.DeactivateUser: the revoke call(s). The user is then marked deactivated and no event for them is sent.
 */
deactivateUser?: {
requests?: Calls
userId?: Expression
}
}
/**
 * A kind of vendor device and the Matter endpoints it exposes.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "profile".
 */
export interface Profile {
/**
 * What devices this profile is for.
 */
description?: string
match: Expression
/**
 * Matter endpoints.
 * 
 * @minItems 1
 * @maxItems 50
 */
endpoints: [Endpoint, ...(Endpoint)[]]
}
/**
 * A Matter endpoint of the device, or (with `forEach`) one endpoint per element of an array of the device (components, channels, outlets, sub-devices).
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "endpoint".
 */
export interface Endpoint {
/**
 * Endpoint id (required unless `forEach` is given).
 */
id?: string
/**
 * Matter device type names or ids.
 * 
 * @minItems 1
 */
deviceTypes: [string, ...(string)[]]
when?: Expression
/**
 * Clusters by Matter name or id.
 */
clusters: {
[k: string]: Cluster
}
forEach?: Expression
idFrom?: Expression
}
/**
 * A Matter cluster on an endpoint: its attributes (state) and commands side by side.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "cluster".
 */
export interface Cluster {
/**
 * Matter FeatureMap reported at discovery: a constant, or a JSONata expression over the vendor device when the features differ between devices of one profile (it must yield an integer 0..4294967295; any other value is logged and the featureMap left out). Constants are checked by `c2c validate` against the device types and the mapped elements; without featureMap the features are derived from them.
 */
featureMap?: (number | Expression)
/**
 * Attributes by Matter name or id.
 */
attributes?: {
[k: string]: Attribute
}
/**
 * Commands by Matter name or id. Every command listed here is advertised at discovery and must declare its vendor request.
 */
commands?: {
[k: string]: Command
}
/**
 * Matter events raised from webhooks, by name or id.
 */
events?: {
[k: string]: MatterEvent
}
}
/**
 * The vendor request(s) a Matter command becomes. Command fields are in `fields` by Matter name and by id.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "command".
 */
export interface Command {
/**
 * Named call to start from.
 */
use?: string
/**
 * HTTP method.
 */
method?: ("GET" | "POST" | "PUT" | "PATCH" | "DELETE")
/**
 * Path with `{placeholders}`.
 */
path?: string
/**
 * Overrides `api.baseUrl`.
 */
baseUrl?: string
/**
 * Expressions for the path placeholders.
 */
pathParams?: {
[k: string]: Expression
}
query?: ValueMap
headers?: ValueMap
body?: Expression
form?: ValueMap
/**
 * Overrides the API timeout.
 */
timeoutMs?: number
success?: Expression
/**
 * Non-2xx statuses that count as success.
 */
acceptStatus?: number[]
requests?: Calls
/**
 * Attributes the vendor's answer confirms, by attribute name or id (`Cluster.Attribute` for another cluster of the endpoint), each an expression; they are reported in DEVICE_COMMAND_RESPONSE only when the call succeeded. Leave out when the vendor only accepts the command (the state then arrives later as a DEVICE_EVENT).
 */
confirms?: {
[k: string]: Expression
}
/**
 * Fields of the command's Matter response, by field name or id, each an expression over `response`.
 */
responseFields?: {
[k: string]: Expression
}
/**
 * Sending this request twice has the same effect as sending it once (an absolute state write such as `{ 'on': true }`, not a toggle). A request that was sent but whose answer was lost (timeout) is re-sent once only when this is true and the command declares no `verify`; otherwise its outcome is reported as unknown (504). Default false.
 */
idempotent?: boolean
/**
 * Requests of this call made by several Matter commands or attribute writes of ONE MI request for the same device are sent as fewer requests, in the order of the MI request. `merge: deep` deep-merges the JSON bodies of requests to the same method, URL and query into one body (later commands win on conflicting leaves); `items: <field>` concatenates the arrays under that top-level body field, at most `max` items per request (other fields deep-merged). Only commands whose action is this single request are batched.
 */
batch?: ({
[k: string]: unknown
} & {
/**
 * Deep-merge the JSON bodies into one.
 */
merge?: "deep"
/**
 * Top-level body field holding an array: the items of every request are concatenated.
 */
items?: string
/**
 * With `items`: at most this many items per request (default 100); more make further requests.
 */
max?: number
})
verify?: Expression
affects?: Expression
errors?: ErrorRules
/**
 * Refusals checked in order before any vendor request (see refusal).
 */
refuse?: Refusal[]
/**
 * For a vendor whose answer means "accepted", not "done": the command response carries no attribute this command would confirm; after `afterSeconds` the device is read again (`operations.getDevice`, through the job queue) and its state goes out as a DEVICE_EVENT, with only what changed since MI last heard of it.
 */
readBack?: {
/**
 * Seconds between the vendor's answer and the read-back (at most 900: the job queue's longest delay).
 */
afterSeconds: number
/**
 * JSONata over the command's context (`response`: the vendor's answer; `status`, `fields`, `device`, as `confirms` sees them): true when the answer only accepted the command, so its state is read back; otherwise (the vendor said it is done) `confirms` applies as without `readBack`. Leave it out when every answer only accepts.
 */
when?: string
}
}
/**
 * Refuses the command (or the attribute write) before any vendor call when `when` is true, answering `status` and `message` instead (a mode the device lacks, a change the vendor forbids in the current state).
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "refusal".
 */
export interface Refusal {
when: Expression
/**
 * Response code of the refused command.
 */
status: number
message?: Expression
}
/**
 * A Matter event raised from a webhook delivery.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "matterEvent".
 */
export interface MatterEvent {
when: Expression
/**
 * Event fields by name or id.
 */
fields?: {
[k: string]: Expression
}
}
/**
 * Device events pushed by the vendor: verification, handshakes, envelope unwrapping and how a delivery becomes DEVICE_EVENTs.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "webhooks".
 */
export interface Webhooks {
/**
 * How a delivery is authenticated. `none` must be chosen explicitly, with `insecure: true` and a `reason`.
 */
verify: {
/**
 * Verification scheme: `hmac`, `sharedSecret`, `publicKey` (one signature header), `httpSignature` (HTTP message signatures: draft-cavage `Signature`/`Authorization: Signature` and RFC 9421 `Signature-Input`/`Signature`), `jwt` (a signed bearer token checked against a JWKS), or `none` (only with `insecure: true` and a `reason`).
 */
scheme: ("hmac" | "sharedSecret" | "publicKey" | "httpSignature" | "jwt" | "none")
/**
 * hmac: sha1/sha256/sha512; publicKey: rsa-sha256/ecdsa-sha256/ed25519.
 */
algorithm?: ("sha1" | "sha256" | "sha512" | "rsa-sha256" | "ecdsa-sha256" | "ed25519")
/**
 * Allow-list of signature algorithms. httpSignature: rsa-sha256 (RFC 9421 rsa-v1_5-sha256), rsa-pss-sha512, ecdsa-sha256 (ecdsa-p256-sha256), ecdsa-p384-sha384, ed25519; a delivery naming another algorithm, or one that does not fit the key, is refused. jwt: JWS names (RS256, ES256, EdDSA, ...).
 * 
 * @minItems 1
 */
algorithms?: [("rsa-sha256" | "rsa-pss-sha512" | "ecdsa-sha256" | "ecdsa-p384-sha384" | "ed25519" | "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" | "ES256" | "ES384" | "ES512" | "EdDSA"), ...(("rsa-sha256" | "rsa-pss-sha512" | "ecdsa-sha256" | "ecdsa-p384-sha384" | "ed25519" | "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" | "ES256" | "ES384" | "ES512" | "EdDSA"))[]]
/**
 * httpSignature: components every accepted signature must cover, in either spelling (`(request-target)`, `@method`, `@path`, header names). A body is always authenticated through a signed `Digest`/`Content-Digest`, and the time through a signed `date` or a `created` parameter.
 */
components?: string[]
/**
 * httpSignature: fetch the public key from the URL the signature's `keyId` names, only when its host is listed here (https only, except loopback). The document may be PEM, a JWK, a JWKS or JSON with a PEM at `pemPath`. Cached per container for `ttlSeconds`; a signature failing with a cached key makes one fresh fetch (rotation).
 */
keyUrl?: {
/**
 * Exact host names keys may come from.
 * 
 * @minItems 1
 */
allowedHosts: [string, ...(string)[]]
/**
 * How long a fetched key is reused (default 3600).
 */
ttlSeconds?: number
/**
 * Dot path of the PEM in a JSON key document.
 */
pemPath?: string
/**
 * For senders whose keyId is a path, not a URL: the key is fetched from this origin plus the keyId (`https://keys.vendor.example` + `/pl/useast1/...`). The resulting URL must still be on `allowedHosts`; a keyId that is a full URL is taken as it is.
 */
baseUrl?: string
}
/**
 * jwt: the JSON Web Key Set the bearer token's signature is checked against (fetched and cached per container; an unknown `kid` fetches it again, so rotation needs no redeploy).
 */
jwksUrl?: string
/**
 * jwt: accepted `iss` values.
 */
issuer?: (string | [string, ...(string)[]])
/**
 * jwt: accepted `aud` values (literal).
 */
audience?: (string | [string, ...(string)[]])
/**
 * jwt: environment variable holding the accepted `aud` (deployment-specific, such as the function URL the push subscription was created with).
 */
audienceEnv?: string
/**
 * jwt: claims the token must carry with exactly these values; `{ env: NAME }` reads the value from the environment.
 */
claims?: {
[k: string]: string | boolean | EnvRef
}
/**
 * Encoding of the signature header.
 */
encoding?: ("hex" | "base64")
/**
 * Header carrying the signature or shared secret.
 */
header?: string
/**
 * Text before the signature in the header, stripped.
 */
prefix?: string
/**
 * What is signed: `body`, `timestamp.body`, or a template with {timestamp}, {body}, {method}, {path}.
 */
signed?: string
/**
 * Header with the delivery time, checked against `toleranceSeconds`.
 */
timestampHeader?: string
/**
 * Replay window (default 300).
 */
toleranceSeconds?: number
secret?: SecretSource
publicKey?: SecretSource
/**
 * Required (true) with `scheme: none`: the function URL then accepts deliveries from anyone. The build prints a warning.
 */
insecure?: boolean
/**
 * Why an unauthenticated endpoint is acceptable (with `insecure: true`).
 */
reason?: string
}
/**
 * Requests answered directly (subscription confirmations, challenges, pings).
 */
handshakes?: {
when: Expression
/**
 * Whether the handshake must pass verification first (default true).
 */
verify?: boolean
/**
 * An outbound confirmation the handshake needs before it is answered: the connector calls a URL taken from the delivery (a SubscriptionConfirmation-style `SubscribeURL`, a verification callback). Only hosts on `allowedHosts` are ever called, over https (plain http on loopback only), without following redirects; a URL off the list is refused (403) and logged by host, never fetched. A failed call answers 502 so the sender retries.
 */
confirm?: {
url: Expression
/**
 * HTTP method of the confirmation call (default GET).
 */
method?: ("GET" | "POST")
/**
 * Host patterns the confirmation URL must match (same syntax as `api.allowedHosts`: `*` stands for part of one DNS label; add `:port` for a non-default port).
 * 
 * @minItems 1
 */
allowedHosts: [string, ...(string)[]]
/**
 * How long the confirmation call may take (default 1000 ms, so the answer stays inside the sender's wait).
 */
timeoutMs?: number
}
/**
 * The HTTP answer the handshake gets instead of event processing.
 */
respond: {
/**
 * HTTP status.
 */
status: number
body?: Expression
}
}[]
events: Expression
ignore?: Expression
eventId?: Expression
order?: Expression
userId?: Expression
deviceId: Expression
state: Expression
profile?: Expression
/**
 * Optional, for vendors that do not redeliver: when managed integrations still refuses a delivery's events after retries, the events not yet sent are written to an SQS queue (with its own dead-letter queue) that the same function consumes, and the vendor gets 200. Without it the vendor gets 503 and must redeliver.
 */
buffer?: {
/**
 * Name of the environment variable holding the queue URL; the deployment template creates the queue and sets the variable.
 */
queueUrlEnv: string
}
/**
 * For vendors whose events carry no id (`eventId` not declared): an event whose content (a SHA-256 digest of its canonical JSON) was already delivered within this many seconds is a replay or a concurrent copy and is not sent again. 0 turns it off (a device that really reports the identical payload twice within the window is then sent twice, as it should be with a short window). Default 300. Ordering by a vendor timestamp is `order`.
 */
duplicateWindowSeconds?: number
}
/**
 * A value read from an environment variable at run time.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "envRef".
 */
export interface EnvRef {
/**
 * Name of the environment variable.
 */
env: string
}
/**
 * Where a secret comes from at run time. Never written in the bundle itself.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "secretSource".
 */
export interface SecretSource {
/**
 * Name of an environment variable holding the secret (or, with `secretsManager`, the secret ARN).
 */
env: string
/**
 * When true, `env` must hold a Secrets Manager ARN whose value is read (cached per container). Webhook secrets are read from Secrets Manager also without it whenever the variable's value is a Secrets Manager ARN (how the generated template passes them by default); the flag makes the ARN required.
 */
secretsManager?: boolean
/**
 * JSON key inside a Secrets Manager secret.
 */
key?: string
}
/**
 * What a vendor account carries beyond the token: calls that run once per user after linking (in AWS.ActivateUser, again when a call fails with a `refreshOn` status, or when the values are missing), and the values kept from them, per user, encrypted in the state store. Every later expression reads them as `account.<name>`. AWS.DeactivateUser deletes them.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "account".
 */
export interface Account {
/**
 * The bootstrap: calls run in order after the user id is known (`userId` is in their context); each response is kept under its name in `responses`.
 */
bootstrap?: {
requests?: Calls
}
/**
 * Values kept per user: an expression over the bootstrap context (`responses`, `responseHeaders`, `token`, `userId`, `settings`), or `{ from, secret }`. Secret values are masked in every log line, trace and error message.
 */
values: {
[k: string]: Expression | {
from: Expression
/**
 * Masked in logs, traces and errors like the token.
 */
secret?: boolean
}
}
/**
 * Vendor statuses that mean the stored values are stale: the bootstrap runs again and the call is retried once.
 */
refreshOn?: number[]
}
/**
 * Opt-in polling for vendors without push: a schedule (EventBridge Scheduler, in the generated template) starts a poll every `intervalMinutes`; each active user is polled in a job of their own on the job queue, spread over the interval and under `requestsPerMinute`. A poll reads the user's devices with the discovery calls (`operations.discoverDevices`: its requests and one page of `list`), with the last credential the connector saw for that user (kept encrypted; OAuth tokens only until `credentialTtlSeconds` or the token's own expiry, or until the vendor rejects them), and sends DEVICE_EVENTs for what changed since the known device state. Only devices discovered for that user are reported. Nothing is polled for a user after AWS.DeactivateUser.
 * 
 * This interface was referenced by `ConnectorMapping`'s JSON-Schema
 * via the `definition` "polling".
 */
export interface Polling {
/**
 * Minutes between two polls of each user (1-15: the polls of one round are spread with the job queue's delay, at most 15 minutes).
 */
intervalMinutes: number
/**
 * The vendor's rate limit for this connector's polling, in requests per minute across all users: polls are spaced so that their requests stay under it (a round that cannot fit the interval is logged).
 */
requestsPerMinute?: number
/**
 * How long after MI last sent an OAuth access token the connector may keep using it for polls (default 3600); never past the token's own `exp` when it is a JWT. General Authorization secrets are referenced by ARN, not copied, and are used for as long as the user is active.
 */
credentialTtlSeconds?: number
}
