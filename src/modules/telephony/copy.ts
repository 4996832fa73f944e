/**
 * Every SMS text the product sends experts, in one place. Short (one
 * segment where possible), friendly, and always saying how to stop.
 */
export const PROGRAM_NAME = "expertline";

export function inviteText(input: { shopName: string; expertName: string; tags: string[] }): string {
  const topics = input.tags.length > 0 ? ` about ${input.tags.slice(0, 3).join(", ")}` : "";
  return (
    `Hi ${input.expertName}! ${input.shopName} invites you to answer customers' questions${topics} by text or call, ` +
    `and you get paid for each one. Reply YES to join, STOP to opt out.`
  );
}

export const copy = {
  joined: (shopName: string) =>
    `You're in! ${shopName} will text you questions that match your skills. Reply OFF to pause, STATUS to check in, HELP for help.`,
  alreadyJoined: "You're already on the team. Reply OFF to pause, STATUS to check in.",
  available: "You're available: questions will come to this number. Reply OFF to pause.",
  paused: "Paused: no questions until you reply ON.",
  notJoinedYet: "Reply YES to join first.",
  suspended: (shopName: string) => `Your ${shopName} expert account is paused by the shop. Reply HELP for help.`,
  help: (input: { shopName: string; contact: string }) =>
    `${PROGRAM_NAME} for ${input.shopName}: paid answers to customers' product questions. ` +
    `Msg frequency varies. Msg&data rates may apply. Help: ${input.contact}. Reply STOP to opt out.`,
  optedOut: (shopName: string) =>
    `You're unsubscribed from ${shopName}'s expert line and won't get more messages. Reply START to resubscribe.`,
  noSuchOffer: (code: string) => `There's no open question with code ${code}. Reply STATUS to see yours.`,
  noOpenSession: "You have no conversation open right now.",
  doneWhere: "You have more than one conversation open: text DONE to the number of the one you want to end.",
  hint: (status: "invited" | "active" | "suspended") =>
    status === "invited"
      ? "Reply YES to join, HELP for help, STOP to opt out."
      : "Reply ON or OFF to set availability, STATUS to check in, HELP for help.",
};

export function statusText(input: {
  status: "invited" | "active" | "suspended";
  paused: boolean;
  openOffers: number;
  openSessions: number;
  earnedThisWeek: string;
}): string {
  const availability =
    input.status === "invited"
      ? "Not joined yet (reply YES to join)"
      : input.status === "suspended"
        ? "Suspended by the shop"
        : input.paused
          ? "Paused (reply ON)"
          : "Available (reply OFF to pause)";
  return (
    `${availability}. Open offers: ${input.openOffers}. Conversations: ${input.openSessions}. ` +
    `Earned this week: ${input.earnedThisWeek}.`
  );
}
