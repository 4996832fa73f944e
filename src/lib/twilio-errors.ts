/**
 * How to treat a Twilio REST error (see the error table in the Twilio docs):
 * 429 and 5xx were never processed and are safe to retry; a full sender
 * queue clears later; everything else (bad number, unsubscribed, not a
 * mobile, ...) will fail the same way every time.
 */
export const UNSUBSCRIBED_RECIPIENT = 21610;
const RETRY_LATER_CODES = new Set([20429, 21611, 30001]);

export interface TwilioErrorShape {
  status?: number;
  code?: number;
  message?: string;
}

export function isTwilioRestError(error: unknown): error is Required<Pick<TwilioErrorShape, "status">> & TwilioErrorShape {
  return typeof error === "object" && error !== null && typeof (error as TwilioErrorShape).status === "number";
}

export function isRetryableTwilioError(error: TwilioErrorShape): boolean {
  const status = error.status ?? 0;
  return status === 429 || status >= 500 || RETRY_LATER_CODES.has(error.code ?? 0);
}
