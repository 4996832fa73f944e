/**
 * Starts the Twilio sandbox as a server of its own, from plain options: the
 * entry points (src/dev.ts, src/sandbox.ts) read them from their config. The
 * sandbox knows nothing of the product beyond the app's address, where it
 * delivers webhooks, and the auth token it signs them with.
 */
import type { Logger } from "pino";
import { systemClock, type Clock } from "./clock.js";
import { createTwilioSandbox, type TwilioSandbox } from "./server.js";
import { httpSender } from "./transport.js";

export interface StartTwilioSandboxOptions {
  accountSid: string;
  authToken: string;
  /** Where the sandbox answers the REST API: the URL the app's Twilio client is pointed at. Its port is the one listened on. */
  listenUrl: string;
  /** The interface to bind; defaults to the listen URL's host. */
  host?: string;
  /** Where webhooks are delivered: the app's own address (they are signed for the public URLs the app configured). */
  appOrigin: string;
  /** The sandbox's own memory across restarts; in memory only when absent. */
  stateFile?: string;
  clock?: Clock;
  /** For what operators must see (a state file that cannot be written). */
  logger?: Logger;
}

export async function startTwilioSandbox(options: StartTwilioSandboxOptions): Promise<TwilioSandbox & { url: string }> {
  const sandbox = await createTwilioSandbox({
    accountSid: options.accountSid,
    authToken: options.authToken,
    clock: options.clock ?? systemClock,
    sender: httpSender(options.appOrigin),
    ...(options.stateFile ? { stateFile: options.stateFile } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const where = new URL(options.listenUrl);
  const port = Number(where.port || (where.protocol === "https:" ? 443 : 80));
  await sandbox.app.listen({ port, host: options.host ?? where.hostname });
  return { ...sandbox, url: options.listenUrl.replace(/\/+$/, "") };
}
