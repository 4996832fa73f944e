import { describe, expect, it } from "vitest";
import { copy, inviteText, PROGRAM_NAME, statusText } from "./copy.js";

/**
 * Characters of the GSM-7 basic set that our copy may use. One character
 * outside it (a curly quote, a dash) turns the whole message into UCS-2,
 * where a segment holds 70 characters instead of 160.
 */
const GSM7 = /^[A-Za-z0-9 @$_!"#%&'()*+,\-./:;<=>?\n]*$/;
const ONE_SEGMENT = 160;
const TWO_SEGMENTS = 306; // 153 each once a message is split

const SHOP = "Brew Barn";
/**
 * A long but ordinary shop name (24 characters). The schema allows 120; names
 * that long split messages into more segments, which Twilio joins, at a cost.
 */
const LONG_SHOP = "Northern Homebrew Supply";

describe("SMS copy", () => {
  it("invites with who, what, pay and how to answer or stop", () => {
    const text = inviteText({ shopName: SHOP, expertName: "Dan", tags: ["all-grain", "mash", "hops", "yeast"] });
    expect(text).toBe(
      "Hi Dan! Brew Barn invites you to answer customers' questions about all-grain, mash, hops by text or call, " +
        "and you get paid for each one. Reply YES to join, STOP to opt out.",
    );
    expect(inviteText({ shopName: SHOP, expertName: "Dan", tags: [] })).toBe(
      "Hi Dan! Brew Barn invites you to answer customers' questions by text or call, " +
        "and you get paid for each one. Reply YES to join, STOP to opt out.",
    );
    expect(inviteText({ shopName: SHOP, expertName: "Ann", tags: ["kegging"] })).toContain("questions about kegging by text");
  });

  it.each([
    ["invited", false, "Not joined yet (reply YES to join)"],
    ["invited", true, "Not joined yet (reply YES to join)"],
    ["active", false, "Available (reply OFF to pause)"],
    ["active", true, "Paused (reply ON)"],
    ["suspended", false, "Suspended by the shop"],
    ["suspended", true, "Suspended by the shop"],
  ] as const)("status for %s (paused %s) starts with %s", (status, paused, start) => {
    expect(statusText({ status, paused, openOffers: 2, openSessions: 1, earnedThisWeek: "$15.00" })).toBe(
      `${start}. Open offers: 2. Conversations: 1. Earned this week: $15.00.`,
    );
  });

  it("HELP names the program and the shop and carries the CTIA fields", () => {
    expect(PROGRAM_NAME).toBe("expertline");
    expect(copy.help({ shopName: SHOP, contact: "help@brewbarn.example" })).toBe(
      "expertline for Brew Barn: paid answers to customers' product questions. " +
        "Msg frequency varies. Msg&data rates may apply. Help: help@brewbarn.example. Reply STOP to opt out.",
    );
  });

  it.each([
    ["joined", () => copy.joined(SHOP), "You're in! Brew Barn will text you questions that match your skills. Reply OFF to pause, STATUS to check in, HELP for help."],
    ["alreadyJoined", () => copy.alreadyJoined, "You're already on the team. Reply OFF to pause, STATUS to check in."],
    ["available", () => copy.available, "You're available: questions will come to this number. Reply OFF to pause."],
    ["paused", () => copy.paused, "Paused: no questions until you reply ON."],
    ["notJoinedYet", () => copy.notJoinedYet, "Reply YES to join first."],
    ["suspended", () => copy.suspended(SHOP), "Your Brew Barn expert account is paused by the shop. Reply HELP for help."],
    ["optedOut", () => copy.optedOut(SHOP), "You're unsubscribed from Brew Barn's expert line and won't get more messages. Reply START to resubscribe."],
    ["noSuchOffer", () => copy.noSuchOffer("7KQ"), "There's no open question with code 7KQ. Reply STATUS to see yours."],
    ["noOpenSession", () => copy.noOpenSession, "You have no conversation open right now."],
    ["doneWhere", () => copy.doneWhere, "You have more than one conversation open: text DONE to the number of the one you want to end."],
    ["hint for an invited expert", () => copy.hint("invited"), "Reply YES to join, HELP for help, STOP to opt out."],
    ["hint for an active expert", () => copy.hint("active"), "Reply ON or OFF to set availability, STATUS to check in, HELP for help."],
    ["hint for a suspended expert", () => copy.hint("suspended"), "Reply ON or OFF to set availability, STATUS to check in, HELP for help."],
  ])("%s says exactly what it should", (_name, text, expected) => {
    // `text` is a function so that a broken copy fails this test, not the loading of the file.
    expect(text()).toBe(expected);
  });

  it("keeps every reply to one GSM-7 segment, and the invite and HELP to two, for a long shop name", () => {
    const replies = [
      copy.joined(LONG_SHOP),
      copy.alreadyJoined,
      copy.available,
      copy.paused,
      copy.notJoinedYet,
      copy.suspended(LONG_SHOP),
      copy.optedOut(LONG_SHOP),
      copy.noSuchOffer("7KQ"),
      copy.noOpenSession,
      copy.doneWhere,
      copy.hint("invited"),
      copy.hint("active"),
      statusText({ status: "active", paused: false, openOffers: 12, openSessions: 3, earnedThisWeek: "$1,234.56" }),
    ];
    for (const text of replies) {
      expect(text).toMatch(GSM7);
      expect(text.length, text).toBeLessThanOrEqual(ONE_SEGMENT);
    }
    const longer = [
      inviteText({ shopName: LONG_SHOP, expertName: "Alexandra Montgomery", tags: ["all-grain brewing", "water chemistry", "kegging"] }),
      copy.help({ shopName: LONG_SHOP, contact: "support@northernhomebrew.example" }),
    ];
    for (const text of longer) {
      expect(text).toMatch(GSM7);
      expect(text.length, text).toBeLessThanOrEqual(TWO_SEGMENTS);
    }
  });
});
