/**
 * Matter interaction status codes the engine answers with (Matter Core spec 8.10, "Status Codes"),
 * with the HTTP-style code used for the command's `responseCode` and the connector ACK.
 */
export interface MatterStatus {
  name: string;
  code: number;
  httpStatus: number;
}

/** A value outside its type's range or the device's limits (0x87). */
export const CONSTRAINT_ERROR: MatterStatus = { name: "CONSTRAINT_ERROR", code: 0x87, httpStatus: 400 };
