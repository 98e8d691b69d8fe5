/**
 * A write the sandbox refuses as invalid input. The Referrals API answers it 400 with Partner
 * Center's error body, whose `target` is the JSON Pointer of the field or operation at fault
 * (`/status`, `/customerProfile/name`), so a client can tell its user what to fix.
 */
export class InvalidWriteError extends Error {
  constructor(
    readonly target: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidWriteError';
  }
}
