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

/** Masks anything in free text that looks like a phone number. */
export function maskPhonesInText(text: string): string {
  return text.replace(PHONE_LIKE, (match) => maskPhone(match.replace(/[^\d+]/g, "")));
}
