/**
 * The head of the smallest bundle with one profile and one endpoint, for tests that vary only the
 * endpoint (device types, clusters, featureMap): everything up to and including `- id: "1"`, so the
 * caller continues with the endpoint's own keys at eight spaces. Line numbers in diagnostics stay
 * those of the caller's text, which starts with these 14 lines.
 */
export function oneEndpointBundleHead(vendorId: string, vendorName: string, profile = "p"): string {
  return `apiVersion: c2c.mapping/v1
vendor: { id: ${vendorId}, name: ${vendorName} }
api: { baseUrl: "https://api.example.test" }
operations:
  activateUser: { userId: "'u1'" }
  discoverDevices:
    list: { method: GET, path: /devices }
    devices: devices
    userId: "'u1'"
    device: { id: id }
profiles:
  ${profile}:
    match: "true"
    endpoints:
      - id: "1"
`;
}
