/**
 * Signed inbound-SMS webhooks as Twilio sends them, built before a run so the
 * load generator does no crypto. The telephony webhook scenarios and the
 * `limit` route get the very same bodies.
 */
import { randomBytes } from "node:crypto";
import twilio from "twilio";
import type { Config } from "../src/config.js";
import { inboundSmsParams } from "../src/sandbox/twilio/messaging.js";
import type { BodySpec } from "./load.js";

export const FORM_CONTENT_TYPE = "application/x-www-form-urlencoded";
/** The path Twilio signs, whichever route receives the body. */
export const SMS_WEBHOOK_PATH = "/twilio/sms";
/** The customer texting the line (not an expert). */
export const CUSTOMER = "+13125550142";
/** A fictional expert line, for the limit route when no shop has bought one yet. */
export const FICTIONAL_LINE = "+14155550100";
export const QUESTION = "Is the 10 gallon kettle induction ready?";

export interface SignedForm {
  body: string;
  headers: Record<string, string>;
}

/** One webhook with its own `SM` + 32 hex MessageSid unless given one. */
export function signedSms(config: Config, to: string, sid = `SM${randomBytes(16).toString("hex")}`): SignedForm {
  const params = inboundSmsParams({ accountSid: config.TWILIO_ACCOUNT_SID, sid, from: CUSTOMER, to, body: QUESTION });
  const signature = twilio.getExpectedTwilioSignature(config.TWILIO_AUTH_TOKEN, `${config.PUBLIC_BASE_URL}${SMS_WEBHOOK_PATH}`, params);
  return {
    body: new URLSearchParams(params).toString(),
    headers: { "x-twilio-signature": signature, "user-agent": "TwilioProxy/1.1 (expertline bench)" },
  };
}

/** `count` webhooks, each with a new MessageSid: one per request of a scenario. */
export function newSidBodies(config: Config, to: string, count: number): BodySpec {
  return { kind: "prebuilt", contentType: FORM_CONTENT_TYPE, items: Array.from({ length: count }, () => signedSms(config, to)) };
}
