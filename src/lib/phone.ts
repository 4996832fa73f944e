import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";

/**
 * Normalises a phone number to E.164, or returns null when it is not a valid
 * number. National formats need `defaultCountry`; "+..." works without.
 * The "max" metadata validates number ranges, not only lengths, so typos
 * such as a US number with a 0 area code are caught here, not by Twilio.
 */
export function toE164(input: string, defaultCountry?: CountryCode): string | null {
  const parsed = parsePhoneNumberFromString(input.trim(), defaultCountry ? { defaultCountry } : undefined);
  if (!parsed || !parsed.isValid()) return null;
  return parsed.number;
}

/** "+14155550123" -> "+1*******23": enough to tell numbers apart in logs, not to dial them. */
export function maskPhone(e164: string): string {
  if (e164.length <= 4) return "*".repeat(e164.length);
  return `${e164.slice(0, 2)}${"*".repeat(e164.length - 4)}${e164.slice(-2)}`;
}

const PHONE_LIKE = /\+?\d[\d\s().-]{7,}\d/g;
/** The shortest phone numbers worth hiding (E.164 allows shorter, but few are dialled). */
const MIN_PHONE_DIGITS = 8;
/** Look like phone numbers to PHONE_LIKE, but an operator needs them: an IPv4 address, an ISO date. */
const NOT_A_PHONE = [/^\d{1,3}(\.\d{1,3}){3}$/, /^\d{4}-\d{2}-\d{2}$/];

/** Masks anything in free text that looks like a phone number. */
export function maskPhonesInText(text: string): string {
  return text.replace(PHONE_LIKE, (match) => {
    const digits = match.replace(/[^\d+]/g, "");
    if (digits.replace("+", "").length < MIN_PHONE_DIGITS || NOT_A_PHONE.some((pattern) => pattern.test(match))) return match;
    return maskPhone(digits);
  });
}
