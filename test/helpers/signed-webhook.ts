/**
 * A webhook request signed exactly as Twilio signs it (the SDK's own
 * helper), against the public URL the app is configured with.
 */
import twilio from "twilio";
import { testConfig } from "./config.js";

const { TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL } = testConfig();

export function signedTwilioWebhook(path: string, params: Record<string, string>, options: { url?: string; token?: string } = {}) {
  const url = options.url ?? `${PUBLIC_BASE_URL}${path}`;
  return {
    method: "POST" as const,
    url: path,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": twilio.getExpectedTwilioSignature(options.token ?? TWILIO_AUTH_TOKEN, url, params),
    },
    payload: new URLSearchParams(params).toString(),
  };
}
