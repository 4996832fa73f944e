/**
 * Twilio on your laptop: a Twilio-compatible REST server, simulated phones,
 * and a voice engine that runs the app's TwiML. `npm run dev` runs it next
 * to the app when there are no Twilio credentials; tests use it as the
 * Twilio peer. With a state file, the account's numbers, messages and
 * opt-outs (and the simulated phones' inboxes) outlive a restart, as they do
 * at Twilio; without one (most tests) everything lives in memory.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Clock } from "./clock.js";
import { MessageDelivery } from "./messaging.js";
import { SANDBOX_PAGE } from "./page.js";
import { registerPhoneApi } from "./phones.routes.js";
import { registerTwilioRest } from "./rest.js";
import { SandboxState } from "./state.js";
import { readStateFile, StateFileWriter } from "./state-file.js";
import { signedWebhook, type WebhookSender } from "./transport.js";
import { VoiceEngine } from "./voice/engine.js";

export interface TwilioSandboxOptions {
  accountSid: string;
  authToken: string;
  clock: Clock;
  /** How webhooks reach the app (HTTP to its local address, or inject in tests). */
  sender: WebhookSender;
  logger?: Logger;
  /** Where the sandbox keeps its own state across restarts (e.g. .expertline/sandbox/twilio-state.json). */
  stateFile?: string;
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
  let writer: StateFileWriter | undefined;
  if (options.stateFile) {
    const saved = readStateFile(options.stateFile);
    if (saved) state.restore(saved);
    writer = new StateFileWriter(options.stateFile, () => state.snapshot(), (error) => {
      state.log("state-file-error", { message: error.message });
      options.logger?.error({ err: error }, "the Twilio sandbox could not save its state");
    });
    const saving = writer;
    state.onChange = () => saving.requestSave();
  }
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
  // Its own start-up and faults are logged; every simulated request would drown them.
  const app: FastifyInstance = Fastify(
    logger ? { loggerInstance: logger, logController: new LogController({ disableRequestLogging: true }) } : { logger: false },
  );
  await registerTwilioRest(app, { state, messaging, voice });
  registerPhoneApi(app, { state, messaging, voice });
  app.get("/sandbox", async (_request, reply) => reply.type("text/html; charset=utf-8").send(SANDBOX_PAGE));
  // Whatever changed last is on disk before close() resolves.
  app.addHook("onClose", async () => {
    await writer?.flush();
  });

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
