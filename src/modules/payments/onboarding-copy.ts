/**
 * The texts that ask an expert to set up payouts. Short (one link, one
 * sentence of why), human, and the link is always ours (/e/onboard/<token>):
 * Stripe's own links are single-use and expire in minutes, and a messaging
 * app's link preview would spend one before the expert taps it.
 */

/** Our short onboarding URL for a token. */
export function onboardingUrl(publicBaseUrl: string, token: string): string {
  return `${publicBaseUrl}/e/onboard/${token}`;
}

/** Sent once the expert is active and approved, while payouts are not set up. */
export function onboardingLinkText(input: { expertName: string; shopName: string; url: string }): string {
  const name = input.expertName.trim();
  const space = name.search(/\s/);
  const first = space === -1 ? name : name.slice(0, space);
  const hello = first ? `Hi ${first}! ` : "";
  return `${hello}To get paid for your ${input.shopName} answers, set up payouts with Stripe (takes ~5 min): ${input.url}`;
}

/** The weekly nudge while earnings wait for payouts to be set up. */
export function payoutReminderText(input: { earned: string; url: string }): string {
  return `You have ${input.earned} waiting. Finish your payout set-up to get it: ${input.url}`;
}
