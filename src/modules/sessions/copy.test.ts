import { describe, expect, it } from "vitest";
import {
  clip,
  customerEndText,
  customerIntroText,
  expertEndText,
  expertIntroduction,
  expertIntroText,
  firstName,
  firstNameOrNull,
  HANDOFF_MAX_CHARS,
  handoffSummary,
  idleWords,
  QUOTED_QUESTION_MAX_CHARS,
  ratingRequest,
  relayText,
  sessionCopy,
  SMS_MAX_CHARS,
  transcriptLines,
} from "./copy.js";

/** The GSM-7 basic set our copy keeps to: one character outside it makes a message UCS-2 (70 a segment). */
const GSM7 = /^[A-Za-z0-9 @$_!"#%&'()*+,\-./:;<=>?\n]*$/;
const ONE_SEGMENT = 160;
const TWO_SEGMENTS = 306;

describe("clip", () => {
  it("keeps text that fits and marks a cut with ...", () => {
    expect(clip("abcdef", 6)).toBe("abcdef");
    expect(clip("abcdefg", 6)).toBe("abc...");
    expect(clip("ab   defg", 6)).toBe("ab...");
  });
  it("never cuts an emoji in half (a lone surrogate shows as a replacement character)", () => {
    expect(clip("ab😀cde", 6)).toBe("ab...");
    expect(clip("a😀bcde", 6)).toBe("a😀...");
    expect(clip("a 😀bcde", 6)).toBe("a...");
  });
  it("keeps the end of a long transcript line without half an emoji at its start", () => {
    // Cut from the end, an odd number of characters after the emoji leaves a lone low surrogate first.
    const summary = handoffSummary({ transcript: `${"😀".repeat(200)}x` })!;
    expect(summary).not.toMatch(/\p{Cs}/u); // a lone surrogate; a whole emoji is one code point
    expect(summary).toBe(`Earlier: "...${"😀".repeat(145)}x"`);
    // A cut between whole characters keeps all of them, emoji further on included.
    expect(handoffSummary({ transcript: `${"x".repeat(400)}😀` })).toBe(`Earlier: "...${"x".repeat(290)}😀"`);
  });
});

describe("first names", () => {
  it("takes the first word, trimmed and single-spaced", () => {
    expect(firstName("  Dan   Brewer ", "Expert")).toBe("Dan");
    expect(firstName("Dan", "Expert")).toBe("Dan");
  });

  it("falls back when there is no name", () => {
    expect(firstName(null, "Customer")).toBe("Customer");
    expect(firstName(undefined, "Customer")).toBe("Customer");
    expect(firstName("   ", "Customer")).toBe("Customer");
    expect(firstNameOrNull("  ")).toBeNull();
    expect(firstNameOrNull(null)).toBeNull();
    expect(firstNameOrNull("Sam Taylor")).toBe("Sam");
  });

  it("masks a phone number given as a name and keeps names short", () => {
    expect(firstName("+14155550123 x", "Customer")).toBe("+1********23");
    expect(firstName("A".repeat(40), "Customer")).toBe(`${"A".repeat(27)}...`);
  });
});

describe("the customer's intro", () => {
  it("names the expert by the product's expert noun", () => {
    const text = customerIntroText({ shopName: "Brew Barn", expertFirstName: "Dan", expertNoun: "Grainfather brewer", productName: "Grainfather G30" });
    expect(text).toBe(
      "Brew Barn: Dan, a fellow Grainfather brewer, will answer you here. Your number stays private. Text DONE when you're finished, STOP to opt out.",
    );
    expect(text).toMatch(GSM7);
    expect(text.length).toBeLessThanOrEqual(ONE_SEGMENT);
  });

  it("falls back to the product's name, then the shop's, with the right article", () => {
    const base = { expertFirstName: "Dan", shopName: "Brew Barn" };
    expect(expertIntroduction({ ...base, expertNoun: null, productName: "Grainfather G30" })).toBe("Dan, a Grainfather G30 expert,");
    expect(expertIntroduction({ ...base, expertNoun: "  ", productName: "Anvil Foundry" })).toBe("Dan, an Anvil Foundry expert,");
    expect(expertIntroduction({ ...base, expertNoun: null, productName: null })).toBe("Dan, a Brew Barn expert,");
    expect(expertIntroduction({ ...base, expertNoun: null, productName: " " })).toBe("Dan, a Brew Barn expert,");
    expect(expertIntroduction({ ...base, shopName: "Ale House", expertNoun: null, productName: null })).toBe("Dan, an Ale House expert,");
    expect(expertIntroduction({ ...base, expertNoun: " homebrewer ", productName: null })).toBe("Dan, a fellow homebrewer,");
  });
});

describe("transcript lines", () => {
  it("splits a string into non-empty single-spaced lines", () => {
    expect(transcriptLines("Bot: Hi!\r\n\n  Customer:   my   mash  \nBot: ok")).toEqual(["Bot: Hi!", "Customer: my mash", "Bot: ok"]);
  });

  it("reads a list of strings or of entries with a speaker and a text", () => {
    expect(
      transcriptLines([
        "plain line",
        { role: "bot", text: "Hello" },
        { from: "customer", body: "hi" },
        { speaker: "agent", message: "yes?" },
        { author: "customer", content: "bye" },
        { role: " ", text: "no speaker" },
        { text: "alone" },
        { role: "bot" },
        { text: 42 },
        null,
        7,
      ]),
    ).toEqual(["plain line", "bot: Hello", "customer: hi", "agent: yes?", "customer: bye", "no speaker", "alone"]);
  });

  it("masks phone numbers and ignores what is not a transcript", () => {
    expect(transcriptLines("call me at 415-555-0199 please")).toEqual(["call me at 41******99 please"]);
    expect(transcriptLines(42)).toEqual([]);
    expect(transcriptLines(null)).toEqual([]);
    expect(transcriptLines({ text: "not a list" })).toEqual([]);
  });
});

describe("the hand-off summary", () => {
  it("is null when there is nothing to hand off", () => {
    expect(handoffSummary(null)).toBeNull();
    expect(handoffSummary("text")).toBeNull();
    expect(handoffSummary(["a"])).toBeNull();
    expect(handoffSummary({})).toBeNull();
    expect(handoffSummary({ source: " ", url: "", transcript: "\n" })).toBeNull();
    expect(handoffSummary({ source: 3, url: 4 })).toBeNull();
  });

  it("says where the customer came from when there is no transcript", () => {
    expect(handoffSummary({ source: "chat bot" })).toBe("Came from chat bot.");
    expect(handoffSummary({ url: "https://brewbarn.example/g30" })).toBe("Came from https://brewbarn.example/g30.");
    expect(handoffSummary({ source: "chat", url: "https://brewbarn.example/g30" })).toBe("Came from chat, https://brewbarn.example/g30.");
    expect(handoffSummary({ url: `https://brewbarn.example/${"x".repeat(100)}` })).toBe(`Came from https://brewbarn.example/${"x".repeat(52)}....`);
  });

  it("quotes a short transcript whole", () => {
    expect(handoffSummary({ source: "Brew Barn chat", transcript: "Bot: Hi\nCustomer: stuck mash" })).toBe(
      'Earlier (Brew Barn chat): "Bot: Hi / Customer: stuck mash"',
    );
    expect(handoffSummary({ transcript: ["Bot: Hi"] })).toBe('Earlier: "Bot: Hi"');
  });

  it("keeps the last lines of a long transcript within two segments, masking numbers", () => {
    const lines = Array.from({ length: 40 }, (_, index) => `Customer: line ${index} about my mash, call 415 555 01${String(index).padStart(2, "0")}`);
    const summary = handoffSummary({ source: "chat", transcript: lines.join("\n") })!;
    expect(summary.length).toBeLessThanOrEqual(HANDOFF_MAX_CHARS);
    expect(summary.length).toBeGreaterThan(HANDOFF_MAX_CHARS - 60);
    expect(summary.startsWith('Earlier (chat): "... / Customer: line ')).toBe(true);
    expect(summary).toContain("line 39 about my mash");
    expect(summary).not.toContain("line 0 ");
    expect(summary).not.toMatch(/555 01\d\d/);
    expect(summary.endsWith('"')).toBe(true);
    expect(summary).toMatch(GSM7);
  });

  it("keeps the end of one very long last line", () => {
    const summary = handoffSummary({ transcript: `Customer: ${"blah ".repeat(100)}the pump stopped` })!;
    expect(summary.length).toBeLessThanOrEqual(HANDOFF_MAX_CHARS);
    expect(summary).toMatch(/^Earlier: "\.\.\.(blah )+the pump stopped"$/);
  });

  it("uses the budget exactly: a line that just fits is kept, one more character is not", () => {
    const label = 'Earlier: "';
    const room = HANDOFF_MAX_CHARS - label.length - 1;
    const fits = "x".repeat(room);
    expect(handoffSummary({ transcript: fits })).toBe(`${label}${fits}"`);
    expect(handoffSummary({ transcript: `${fits}x` })).toBe(`${label}...${"x".repeat(room - 3)}"`);
    // Two lines: both kept while they fit together; else the latest, after the marker.
    const last = "y".repeat(room - 13);
    expect(handoffSummary({ transcript: `${"z".repeat(10)}\n${last}` })).toBe(`${label}${"z".repeat(10)} / ${last}"`);
    expect(handoffSummary({ transcript: `${"z".repeat(11)}\n${last}` })).toBe(`${label}... / ${last}"`);
    const longest = "y".repeat(room - "... / ".length);
    const earlier = "z".repeat(20);
    expect(handoffSummary({ transcript: `${earlier}\n${longest}` })).toBe(`${label}... / ${longest}"`);
    expect(handoffSummary({ transcript: `${earlier}\n${longest}y` })).toBe(`${label}... / ...${"y".repeat(longest.length - 3)}"`);
  });
});

describe("the expert's intro", () => {
  it("quotes the question and names the customer", () => {
    const text = expertIntroText({ shopName: "Brew Barn", customerFirstName: "Sam", question: "Stuck  mash,\nhelp?", handoff: null });
    expect(text).toBe('Brew Barn: Sam asks: "Stuck mash, help?" Reply here to talk to Sam; your number stays private. Text DONE when finished.');
    expect(text).toMatch(GSM7);
  });

  it("adds the hand-off, clips a long question, and says 'a customer' without a name", () => {
    const text = expertIntroText({ shopName: "Brew Barn", customerFirstName: null, question: "q".repeat(600), handoff: 'Earlier: "hi"' });
    expect(text).toBe(
      `Brew Barn: A customer asks: "${"q".repeat(QUOTED_QUESTION_MAX_CHARS - 3)}..." Earlier: "hi" Reply here to talk to them; your number stays private. Text DONE when finished.`,
    );
    expect(text.length).toBeLessThanOrEqual(SMS_MAX_CHARS);
  });
});

describe("relayed texts", () => {
  it("carry the sender's first name and fit Twilio's limit", () => {
    expect(relayText("Sam", "  is it the crush? ")).toBe("Sam: is it the crush?");
    const long = relayText("Sam", "a".repeat(2000));
    expect(long).toHaveLength(SMS_MAX_CHARS);
    expect(long.endsWith("...")).toBe(true);
    expect(relayText("Sam", "a".repeat(SMS_MAX_CHARS - 5))).toHaveLength(SMS_MAX_CHARS);
  });
});

describe("idle time in words", () => {
  it.each([
    [0, "0 seconds"],
    [1, "1 second"],
    [2, "2 seconds"],
    [59, "59 seconds"],
    [60, "1 minute"],
    [90, "2 minutes"],
    [1800, "30 minutes"],
    [3600, "1 hour"],
    [5400, "90 minutes"],
    [7200, "2 hours"],
  ])("%i seconds is %s", (seconds, words) => {
    expect(idleWords(seconds)).toBe(words);
  });
});

describe("the end", () => {
  it("tells the expert who ended it, or confirms their own DONE", () => {
    const base = { customerFirstName: "Sam", idleSeconds: 1800 };
    expect(expertEndText({ ...base, endedBy: "customer" })).toBe("Sam ended the conversation. Thanks for helping!");
    expect(expertEndText({ ...base, endedBy: "expert" })).toBe("You ended the conversation with Sam. Thanks for helping!");
    expect(expertEndText({ ...base, endedBy: "idle" })).toBe("The conversation with Sam ended after 30 minutes without messages. Thanks for helping!");
    expect(expertEndText({ ...base, endedBy: "hangup" })).toBe("The conversation with Sam has ended. Thanks for helping!");
    const nameless = { customerFirstName: null, idleSeconds: 60 };
    expect(expertEndText({ ...nameless, endedBy: "customer" })).toBe("The customer ended the conversation. Thanks for helping!");
    expect(expertEndText({ ...nameless, endedBy: "expert" })).toBe("You ended the conversation with the customer. Thanks for helping!");
  });

  it("tells the customer and asks for the rating in one text", () => {
    const base = { expertFirstName: "Dan", idleSeconds: 1800 };
    expect(ratingRequest("Dan")).toBe("How did Dan do? Reply 1-5 (5 is best).");
    expect(customerEndText({ ...base, endedBy: "customer" })).toBe("Thanks for chatting with Dan! How did Dan do? Reply 1-5 (5 is best).");
    expect(customerEndText({ ...base, endedBy: "expert" })).toBe("Dan ended the conversation. How did Dan do? Reply 1-5 (5 is best).");
    expect(customerEndText({ ...base, endedBy: "idle" })).toBe(
      "This conversation ended after 30 minutes without messages. How did Dan do? Reply 1-5 (5 is best).",
    );
    expect(customerEndText({ ...base, endedBy: "hangup" })).toBe("This conversation has ended. How did Dan do? Reply 1-5 (5 is best).");
  });
});

describe("after the end", () => {
  it("thanks for the rating and the comment, and says politely that it is over", () => {
    const texts = [
      sessionCopy.rated("Dan", 4),
      sessionCopy.commented("Dan"),
      sessionCopy.alreadyRated,
      sessionCopy.endedAwaitingRating("Dan"),
      sessionCopy.endedCustomer("Brew Barn"),
      sessionCopy.endedExpert,
    ];
    expect(texts).toEqual([
      "Thanks for rating Dan 4/5! Want to add a comment? Just reply with it.",
      "Thanks! Your comment about Dan is saved.",
      "Thanks, you've already rated this conversation.",
      "This conversation has ended, so your message was not passed on. How did Dan do? Reply 1-5 (5 is best).",
      "This conversation has ended, so your message was not passed on. To ask something new, visit Brew Barn's website.",
      "This conversation has ended, so your message was not passed on.",
    ]);
    for (const text of texts) {
      expect(text).toMatch(GSM7);
      expect(text.length).toBeLessThanOrEqual(ONE_SEGMENT);
    }
    expect(TWO_SEGMENTS).toBeGreaterThan(HANDOFF_MAX_CHARS - 1);
  });
});
