/**
 * Delivering webhooks the way Twilio does: a form POST to the URL the app
 * configured, signed with X-Twilio-Signature over that exact URL and the
 * parameters. The sandbox may reach the app at another address than the
 * public one it signs (tests inject, dev listens on localhost).
 */
import twilio from "twilio";
import type { HttpAnswer } from "./voice/engine.js";

export interface WebhookRequest {
  /** The URL as configured (what Twilio signs). */
  url: string;
  method: "GET" | "POST";
  params: Record<string, string>;
}

/** Sends a signed webhook somewhere; tests swap in fastify.inject. */
export type WebhookSender = (request: WebhookRequest & { headers: Record<string, string> }) => Promise<HttpAnswer>;

export function signedWebhook(authToken: string, request: WebhookRequest) {
  const url = request.method === "GET" ? withQuery(request.url, request.params) : request.url;
  const params = request.method === "GET" ? {} : request.params;
  return {
    ...request,
    url,
    params,
    headers: {
      "x-twilio-signature": twilio.getExpectedTwilioSignature(authToken, url, params),
      "content-type": "application/x-www-form-urlencoded",
      "user-agent": "TwilioProxy/1.1 (expertline sandbox)",
    },
  };
}

function withQuery(url: string, params: Record<string, string>): string {
  const target = new URL(url);
  for (const [key, value] of Object.entries(params)) target.searchParams.append(key, value);
  return target.toString();
}

/** Real HTTP, optionally to another origin than the one in the URL (the app's local address). */
export function httpSender(appOrigin?: string): WebhookSender {
  return async ({ url, method, params, headers }) => {
    const target = new URL(url);
    const address = appOrigin ? new URL(`${target.pathname}${target.search}`, appOrigin) : target;
    const response = await fetch(address, {
      method,
      headers,
      ...(method === "POST" ? { body: new URLSearchParams(params).toString() } : {}),
      signal: AbortSignal.timeout(15_000), // Twilio gives up after 15 s
    });
    return { status: response.status, contentType: response.headers.get("content-type") ?? "", body: await response.text() };
  };
}
