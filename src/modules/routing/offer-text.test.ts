import { describe, expect, it } from "vitest";
import { customerCopy, excerpt, expertShareMinor, offerText, payText, pickOfferCode, roundMinutes, routingCopy } from "./offer-text.js";

describe("pickOfferCode", () => {
  it("draws three characters from the look-alike-free alphabet", () => {
    const sequence = [0, 1, 2];
    let call = 0;
    const code = pickOfferCode(new Set(), () => sequence[call++ % 3]!);
    expect(code).toBe("234");
  });

  it("skips codes the expert's open offers already use", () => {
    const draws = [0, 0, 0, 0, 0, 1];
    let call = 0;
    expect(pickOfferCode(new Set(["222"]), () => draws[call++]!)).toBe("223");
  });

  it("gives up after 1000 tries rather than loop forever on a broken random source", () => {
    let calls = 0;
    expect(() =>
      pickOfferCode(new Set(["222"]), () => {
        calls++;
        return 0;
      }),
    ).toThrow("no free offer code");
    expect(calls).toBe(3000);
  });

  it("asks random for an index below the alphabet's size", () => {
    const sizes: number[] = [];
    pickOfferCode(new Set(), (size) => {
      sizes.push(size);
      return size - 1;
    });
    expect(sizes).toEqual([31, 31, 31]);
  });
});

describe("pay", () => {
  it.each([
    [{ mode: "per_session", amountMinor: 1500, currency: "USD", platformFeeBps: 2000 }, 1200, "$12.00"],
    [{ mode: "per_session", amountMinor: 999, currency: "USD", platformFeeBps: 1500 }, 849, "$8.49"],
    [{ mode: "per_minute", amountMinor: 100, currency: "EUR", platformFeeBps: 0 }, 100, "€1.00/min"],
    [{ mode: "per_session", amountMinor: 500, currency: "JPY", platformFeeBps: 10_000 }, 0, "¥0"],
  ] as const)("%o earns %i minor units, shown as %s", (pay, share, shown) => {
    expect(expertShareMinor(pay)).toBe(share);
    expect(payText(pay)).toBe(shown);
  });
});

describe("excerpt", () => {
  it("keeps a short question whole, on one line", () => {
    expect(excerpt("  Should I\nadd acid?  ")).toBe("Should I add acid?");
  });
  it("cuts a long one on a word boundary with an ellipsis", () => {
    expect(excerpt("one two three four five six", 12)).toBe("one two…");
  });
  it("cuts mid-word when the only space is too early", () => {
    expect(excerpt("a verylongwordwithoutspaces", 12)).toBe("a verylongw…");
  });
  it("drops trailing punctuation before the ellipsis", () => {
    expect(excerpt("one two, three four five", 10)).toBe("one two…");
  });
  it("folds every run of whitespace into one space", () => {
    expect(excerpt("a \t\n  b\r\nc")).toBe("a b c");
  });
  it("keeps a cut exactly at half the length rather than at that early space", () => {
    expect(excerpt("abcdef ghijklmnop", 12)).toBe("abcdef ghij…");
    expect(excerpt("abcdefg hijklmnop", 12)).toBe("abcdefg…");
  });
  it("drops a whole run of trailing punctuation before the ellipsis", () => {
    expect(excerpt("one two.., three", 12)).toBe("one two…");
  });
  it("keeps exactly max characters", () => {
    expect(excerpt("x".repeat(80))).toHaveLength(80);
    expect(excerpt("x".repeat(81))).toHaveLength(80);
  });
  it("counts and cuts whole characters: an emoji is never split into a lone surrogate", () => {
    expect(excerpt("😀".repeat(80))).toBe("😀".repeat(80));
    expect(excerpt("😀".repeat(81))).toBe(`${"😀".repeat(79)}…`);
    expect(excerpt(`ab ${"😀".repeat(100)}`, 60)).toBe(`ab ${"😀".repeat(56)}…`);
  });
});

describe("offerText", () => {
  it("names shop, product, excerpt, pay, time and code, and ends as the issue asks", () => {
    expect(
      offerText({
        shopName: "Brew Barn",
        productName: "Grainfather G30",
        question: "Should I add hot acid water at mash-out?",
        pay: { mode: "per_session", amountMinor: 1500, currency: "USD", platformFeeBps: 2000 },
        code: "7KQ",
        minutesToAnswer: 2,
      }),
    ).toBe('Brew Barn question about Grainfather G30: "Should I add hot acid water at mash-out?" Pays $12.00. Open 2 min. Reply YES 7KQ to take it, NO 7KQ to pass');
  });
  it("leaves out what it does not know", () => {
    expect(offerText({ shopName: "S", productName: null, question: "q", pay: null, code: "ABC", minutesToAnswer: 5 })).toBe(
      'S question: "q" Open 5 min. Reply YES ABC to take it, NO ABC to pass',
    );
  });
});

describe("small words", () => {
  it.each([
    [0, 1],
    [1, 1],
    [60, 1],
    [61, 2],
    [15 * 60, 15],
    [16 * 60, 20],
    [21 * 60, 25],
  ])("roundMinutes(%i s) is %i", (seconds, minutes) => {
    expect(roundMinutes(seconds)).toBe(minutes);
  });
  it("asks which of several offers", () => {
    expect(routingCopy.whichOffer(["ABC", "DEF", "GHJ"])).toBe("You have 3 open questions: reply YES ABC (or DEF, GHJ) to pick one.");
  });
  it("greets the customer with the link", () => {
    expect(customerCopy.received({ name: "Sam Smith", shopName: "Brew Barn", productName: null, statusUrl: "https://x/q/t" })).toBe(
      "Hi Sam! Brew Barn got your question. We're finding an expert and will text you here. Follow along: https://x/q/t",
    );
    expect(customerCopy.received({ name: "Sam Smith", shopName: "Brew Barn", productName: "G30", statusUrl: "https://x/q/t", callBack: true })).toBe(
      "Hi Sam! Brew Barn got your question about G30. We're finding an expert to call you back, and will text you updates here. Follow along: https://x/q/t",
    );
  });
  it("lists product choices by number", () => {
    expect(customerCopy.askProduct({ shopName: "Brew Barn", products: ["G30", "G40"], statusUrl: "https://x/q/t" })).toBe(
      "Hi! Brew Barn got your question. Which product is it about? 1 G30, 2 G40. Reply with the number. Follow along: https://x/q/t",
    );
  });
  it("is honest about time", () => {
    expect(customerCopy.widened(10)).toContain("about 10 min");
    expect(customerCopy.nobodyYet("the next 3 hours")).toContain("trying for the next 3 hours and");
    expect(routingCopy.timedOut).toMatch(/^Sorry, that one timed out/);
    expect(routingCopy.busy("7KQ")).toBe("You're at your limit of open conversations. Text DONE in one, then reply YES 7KQ again if it's still open.");
    expect(customerCopy.expired({ name: null, shopName: "S" })).toMatch(/^Sorry there, no S expert/);
    expect(customerCopy.productUnclear(3)).toBe("Sorry, I didn't get that. Reply with a number from 1 to 3.");
    expect(customerCopy.talkingOnOtherNumber("Dan")).toMatch(/^Dan is answering you/);
    expect(customerCopy.cancelled("S")).toMatch(/^Your question to S is closed/);
  });
});

describe("every text, word for word", () => {
  it.each([
    ["alreadyTaken", routingCopy.alreadyTaken, "Already taken, thanks!"],
    ["timedOut", routingCopy.timedOut, "Sorry, that one timed out. We'll text you the next one."],
    ["questionClosed", routingCopy.questionClosed, "That question was closed before anyone took it, thanks!"],
    ["declined", routingCopy.declined, "No problem, thanks for letting us know."],
    ["noOpenOffer", routingCopy.noOpenOffer, "You have no open question right now. Reply STATUS to see yours."],
    ["autoPaused", routingCopy.autoPaused, "You missed 3 questions in a row, so we've paused new ones. Reply ON when you're ready again."],
    ["addedToQuestion", customerCopy.addedToQuestion, "Got it, we've added that to your question."],
    ["expiredUnchosen", customerCopy.expiredUnchosen("Brew Barn"), "We didn't hear which product your question was about, so Brew Barn closed it. Text us again any time."],
    ["askInWords", customerCopy.askInWords("Brew Barn"), "Hi! This is Brew Barn's expert line. Text your question in words and we'll find an expert to answer you."],
    [
      "received with a product",
      customerCopy.received({ name: null, shopName: "Brew Barn", productName: "G30", statusUrl: "https://x/q/t" }),
      "Hi there! Brew Barn got your question about G30. We're finding an expert and will text you here. Follow along: https://x/q/t",
    ],
  ])("%s", (_name, text, expected) => {
    expect(text).toBe(expected);
  });
});
