/**
 * Errors of reading a General Authorization secret, apart from the reader so that code which only
 * classifies errors does not load the Secrets Manager client.
 */

export type SecretReadErrorCode = "AccessDenied" | "NotFound" | "Invalid" | "Unavailable";

/**
 * A secret could not be read. The message names only the kind of failure and the service's
 * error name: never the secret's value, and never its ARN (secret names can carry user ids).
 */
export class SecretReadError extends Error {
  constructor(
    readonly code: SecretReadErrorCode,
    /** The service's error name when it reported one, e.g. AccessDeniedException. */
    readonly serviceErrorName?: string,
  ) {
    super(`secret read failed: ${code}${serviceErrorName ? ` (${serviceErrorName})` : ""}`);
    this.name = "SecretReadError";
  }
}

const ERROR_CODES: Record<string, SecretReadErrorCode> = {
  AccessDeniedException: "AccessDenied",
  // The KMS key cannot be used by this role: a permission problem, not a transient one.
  DecryptionFailure: "AccessDenied",
  UnrecognizedClientException: "AccessDenied",
  InvalidClientTokenId: "AccessDenied",
  InvalidSignatureException: "AccessDenied",
  ExpiredTokenException: "AccessDenied",
  ResourceNotFoundException: "NotFound",
  InvalidRequestException: "Invalid",
  InvalidParameterException: "Invalid",
  ValidationException: "Invalid",
  InternalServiceError: "Unavailable",
  ThrottlingException: "Unavailable",
  ServiceUnavailableException: "Unavailable",
};

export function secretReadErrorCode(serviceErrorName: string | undefined): SecretReadErrorCode {
  return (serviceErrorName && ERROR_CODES[serviceErrorName]) || "Unavailable";
}
