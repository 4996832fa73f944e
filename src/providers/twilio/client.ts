/**
 * The one Twilio client, built from config. With TWILIO_API_BASE_URL set
 * (the sandbox, or a test server) every request the SDK makes goes to that
 * origin instead of *.twilio.com; paths, auth and bodies stay exactly what
 * the SDK sends, so the same code runs against both.
 */
import twilio from "twilio";
import type { Config } from "../../config.js";

type RequestOptions = Parameters<twilio.RequestClient["request"]>[0];

class RebasedRequestClient extends twilio.RequestClient {
  constructor(private readonly base: URL) {
    super({ keepAlive: true });
  }

  override request<TData>(options: RequestOptions & { data?: TData }) {
    const target = new URL(options.uri);
    const rebased = new URL(`${target.pathname}${target.search}`, this.base);
    return super.request({ ...options, uri: rebased.toString() });
  }
}

export type TwilioClient = twilio.Twilio;

export function createTwilioClient(
  config: Pick<Config, "TWILIO_ACCOUNT_SID" | "TWILIO_AUTH_TOKEN" | "TWILIO_API_BASE_URL">,
): TwilioClient {
  return twilio(config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN, {
    // Retries are ours (BullMQ backoff), so a retried send keeps one Message row.
    autoRetry: false,
    ...(config.TWILIO_API_BASE_URL ? { httpClient: new RebasedRequestClient(new URL(config.TWILIO_API_BASE_URL)) } : {}),
  });
}
