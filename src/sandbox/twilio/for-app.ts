/**
 * Starts the Twilio sandbox beside an expertline app: listening where
 * TWILIO_API_BASE_URL points, delivering webhooks to the app's own address
 * (signed for PUBLIC_BASE_URL), and owning the numbers the database already
 * knows, since the sandbox itself forgets everything when it restarts.
 */
import type { Deps } from "../../deps.js";
import { webhookUrls } from "../../modules/telephony/numbers.js";
import { createTwilioSandbox, type TwilioSandbox } from "./server.js";
import { newSid } from "./sids.js";
import { httpSender } from "./transport.js";

export async function startSandboxForApp(
  deps: Pick<Deps, "config" | "prisma" | "clock">,
  options: { appOrigin: string; host: string },
): Promise<TwilioSandbox & { url: string }> {
  const { config } = deps;
  if (!config.TWILIO_API_BASE_URL) {
    throw new Error("config: the sandbox needs TWILIO_API_BASE_URL (where it listens, e.g. http://127.0.0.1:3001)");
  }
  const sandbox = await createTwilioSandbox({
    accountSid: config.TWILIO_ACCOUNT_SID,
    authToken: config.TWILIO_AUTH_TOKEN,
    clock: deps.clock,
    sender: httpSender(options.appOrigin),
  });
  for (const number of await deps.prisma.phoneNumber.findMany()) {
    sandbox.state.own(number.e164, webhookUrls(config.PUBLIC_BASE_URL), number.twilioSid ?? newSid("PN"));
  }
  const where = new URL(config.TWILIO_API_BASE_URL);
  await sandbox.app.listen({ port: Number(where.port || 80), host: options.host });
  return { ...sandbox, url: config.TWILIO_API_BASE_URL };
}
