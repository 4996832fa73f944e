/**
 * Phone-number parsing for the sandbox, straight from libphonenumber-js (the
 * sandbox imports nothing of the product, not even its helpers).
 */
import { parsePhoneNumberFromString } from "libphonenumber-js";

/** The number in E.164 form when it is a valid number, else null (Twilio answers 21211). */
export function toE164(input: string): string | null {
  const parsed = parsePhoneNumberFromString(input.trim());
  return parsed?.isValid() ? parsed.number : null;
}
