import type { ErrorCode } from './codes.ts';

/** An error with a stable code, and the details a user needs to fix it. */
export class PassengerError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}
Object.defineProperty(PassengerError.prototype, 'name', { value: 'PassengerError', enumerable: false });

export function isPassengerError(e: unknown): e is PassengerError {
  return e instanceof PassengerError;
}

/** A one-line description of anything thrown, for logs. */
export function describeError(e: unknown): string {
  if (e instanceof PassengerError) return `${e.code}: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}
