import { randomBytes } from "node:crypto";

/** Twilio resource ids: a two-letter prefix and 32 hex digits (34 characters). */
export type SidPrefix = "AC" | "SM" | "MM" | "CA" | "CF" | "PN" | "RE" | "ME";

export function newSid(prefix: SidPrefix): string {
  return `${prefix}${randomBytes(16).toString("hex")}`;
}

/** RFC 2822 in GMT, as the 2010-04-01 API writes dates: "Thu, 30 Jul 2015 20:12:31 +0000". */
export function rfc2822(date: Date): string {
  return date.toUTCString().replace("GMT", "+0000");
}
