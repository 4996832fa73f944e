/**
 * Set-up for payments tests: sessions that end priced (the expert answered
 * by text, the customer ended it), and experts onboarded to the Stripe
 * sandbox the way production learns of it (account.updated, signed).
 */
import { adminHeaders } from "../helpers/factories.js";
import type { TelephonyContext } from "../helpers/telephony.js";
import { acceptQuestion, proxyOf, type SessionWorld } from "../sessions/session-world.js";

export { adminHeaders };

/** A session the expert answered and the customer ended with DONE (so it is priced), optionally rated. */
export async function answeredSession(
  ctx: TelephonyContext,
  world: SessionWorld,
  options: { expert?: { id: string; phone: string }; customerPhone?: string; rating?: number; answered?: boolean } = {},
) {
  const session = await acceptQuestion(ctx, world, { ...(options.expert ? { expert: options.expert } : {}), ...(options.customerPhone ? { customerPhone: options.customerPhone } : {}) });
  await ctx.settle();
  const proxy = await proxyOf(ctx, session.sessionId);
  if (options.answered ?? true) await ctx.text(session.expertPhone, proxy, "Add the hot water slowly and check the temperature.");
  await ctx.text(session.customerPhone, proxy, "DONE");
  if (options.rating !== undefined) await ctx.text(session.customerPhone, proxy, String(options.rating));
  return { ...session, proxy };
}

/** Creates the expert's connected account in the sandbox, stores it, and completes onboarding (account.updated reaches the app). */
export async function onboardExpert(ctx: TelephonyContext, expertId: string): Promise<string> {
  const account = await ctx.deps.stripe.accounts.create({
    controller: { stripe_dashboard: { type: "express" }, fees: { payer: "application" }, losses: { payments: "application" } },
    capabilities: { transfers: { requested: true } },
    metadata: { expertId },
  });
  await ctx.deps.prisma.expert.update({ where: { id: expertId }, data: { stripeAccountId: account.id } });
  ctx.stripe.state.completeOnboarding(account.id);
  await ctx.settle();
  return account.id;
}

export async function runPayoutsAsAdmin(ctx: TelephonyContext): Promise<string[]> {
  const response = await ctx.app.inject({ method: "POST", url: "/v1/admin/payouts/run", headers: adminHeaders });
  if (response.statusCode !== 200) throw new Error(`payout run failed: ${response.statusCode} ${response.body}`);
  return response.json<{ payoutIds: string[] }>().payoutIds;
}

export async function decide(ctx: TelephonyContext, payoutId: string, action: "approve" | "hold" | "reject", body: Record<string, unknown> = {}) {
  return ctx.app.inject({ method: "POST", url: `/v1/admin/payouts/${payoutId}/${action}`, headers: adminHeaders, payload: body });
}

/** The sandbox's transfers for a payout (its transfer_group). */
export function transfersOf(ctx: TelephonyContext, payoutId: string) {
  return [...ctx.stripe.state.transfers.values()].filter((transfer) => transfer.transferGroup === payoutId);
}
