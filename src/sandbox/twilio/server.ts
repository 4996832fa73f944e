/**
 * Twilio on your laptop: a Twilio-compatible REST server, simulated phones,
 * and a voice engine that runs the app's TwiML. `npm run dev` runs it next
 * to the app when there are no Twilio credentials; tests use it as the
 * Twilio peer. Everything lives in memory.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Clock } from "../../lib/clock.js";
import { MessageDelivery } from "./messaging.js";
import { SANDBOX_PAGE } from "./page.js";
import { registerPhoneApi } from "./phones.routes.js";
import { registerTwilioRest } from "./rest.js";
import { SandboxState } from "./state.js";
import { signedWebhook, type WebhookSender } from "./transport.js";
import { VoiceEngine } from "./voice/engine.js";

export interface TwilioSandboxOptions {
  accountSid: string;
  authToken: string;
  clock: Clock;
  /** How webhooks reach the app (HTTP to its local address, or inject in tests). */
  sender: WebhookSender;
  logger?: Logger;
}

export interface TwilioSandbox {
  app: FastifyInstance;
  state: SandboxState;
  messaging: MessageDelivery;
  voice: VoiceEngine;
  /** Resolves when every message and call in flight has finished its callbacks. */
  idle(): Promise<void>;
}

export async function createTwilioSandbox(options: TwilioSandboxOptions): Promise<TwilioSandbox> {
  const state = new SandboxState(options.accountSid, options.authToken, options.clock);
  const messaging = new MessageDelivery(state, options.sender);
  const voice = new VoiceEngine({
    accountSid: options.accountSid,
    clock: options.clock,
    request: (url, method, params) => options.sender(signedWebhook(options.authToken, { url, method, params })),
    behaviorOf: (number) => (state.numbers.has(number) ? undefined : state.phone(number).voice),
    voiceUrlOf: (number) => {
      const owned = state.numbers.get(number);
      if (!owned?.voiceUrl) return undefined;
      return { url: owned.voiceUrl, method: owned.voiceMethod, ...(owned.statusCallback ? { statusCallback: owned.statusCallback } : {}) };
    },
    log: (event) => state.log(`call-${event.type}`, { ...event }),
  });

  const logger: FastifyBaseLogger | undefined = options.logger;
  const app: FastifyInstance = Fastify(logger ? { loggerInstance: logger, disableRequestLogging: true } : { logger: false });
  await registerTwilioRest(app, { state, messaging, voice });
  registerPhoneApi(app, { state, messaging, voice });
  app.get("/sandbox", async (_request, reply) => reply.type("text/html; charset=utf-8").send(SANDBOX_PAGE));

  return {
    app,
    state,
    messaging,
    voice,
    async idle() {
      await Promise.all([messaging.idle(), voice.idle()]);
    },
  };
}
