/**
 * Texts to a proxy number: routed by the pair (sender, proxy number), as
 * Twilio Proxy does, to the one open session that pair belongs to.
 */
import type { Message } from "../../generated/prisma/client.js";
import type { SessionDeps } from "./jobs.js";

export async function handleProxyText(deps: SessionDeps, inbound: Message): Promise<void> {
  deps.logger.info({ messageId: inbound.id }, "text to a proxy number: sessions are not built yet");
}
