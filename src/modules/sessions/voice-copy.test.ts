import { describe, expect, it } from "vitest";
import { customerGreeting, offerWhisper, sessionRingWhisper, voiceCopy, voiceTextCopy } from "./voice-copy.js";

describe("what the expert hears", () => {
  it("is the offer in the issue's words", () => {
    expect(offerWhisper({ customerName: "Sam Taylor", productName: "Grainfather G30", shopName: "Brew Barn" })).toBe(
      "Question about Grainfather G30 from Sam. Press 1 to take the call, 2 to pass.",
    );
  });

  it("names the shop's line without a product and says 'a customer' without a name", () => {
    expect(offerWhisper({ customerName: null, productName: "  ", shopName: "Brew Barn" })).toBe(
      "Question for the Brew Barn expert line from a customer. Press 1 to take the call, 2 to pass.",
    );
    expect(offerWhisper({ customerName: "   ", productName: null, shopName: "Brew Barn" })).toBe(
      "Question for the Brew Barn expert line from a customer. Press 1 to take the call, 2 to pass.",
    );
  });

  it("never reads out a number the customer typed as their name", () => {
    expect(offerWhisper({ customerName: "+14155550123", productName: "G30", shopName: "Brew Barn" })).not.toContain("4155550123");
  });

  it("asks an expert already in the session to take the call or keep texting", () => {
    expect(sessionRingWhisper({ customerName: "Sam Taylor", productName: "Grainfather G30", shopName: "Brew Barn" })).toBe(
      "Sam would like to talk now, about Grainfather G30. Press 1 to take the call, 2 to keep texting.",
    );
  });
});

describe("what the customer hears", () => {
  it("greets by first name and introduces the expert", () => {
    expect(customerGreeting({ customerName: "Sam Taylor", shopName: "Brew Barn", expertIntroduction: "Dan, a fellow Grainfather brewer," })).toBe(
      "Hi Sam, this is the Brew Barn expert line. Connecting you with Dan, a fellow Grainfather brewer, about your question.",
    );
  });

  it("greets without a name", () => {
    expect(customerGreeting({ customerName: null, shopName: "Brew Barn", expertIntroduction: "Dan, a Brew Barn expert," })).toBe(
      "Hi, this is the Brew Barn expert line. Connecting you with Dan, a Brew Barn expert, about your question.",
    );
  });
});

describe("the spoken lines and texts", () => {
  it("name the other side by first name", () => {
    expect(voiceCopy.hold("Sam")).toBe("Thanks. Calling Sam now. Please stay on the line.");
    expect(voiceCopy.connecting("Dan")).toBe("Connecting you with Dan. Please hold.");
    expect(voiceCopy.callingBack("Dan")).toBe("Thanks. We will call you right back on this number and connect you with Dan. Goodbye.");
    expect(voiceCopy.customerMissed("Sam")).toBe("Sam did not pick up. We will call again in two minutes and ring you when they answer. Goodbye.");
    expect(voiceCopy.customerUnreachable("Sam")).toBe(
      "Sam did not pick up again. We have texted them, and you can keep helping by text on this number. Goodbye.",
    );
    expect(voiceCopy.expertUnavailable("Dan")).toBe(
      "Dan cannot take the call right now. We have let them know, and you can text this number to keep talking. Goodbye.",
    );
  });

  it("tell the customer whose call is coming and what to do when it did not reach them", () => {
    expect(voiceTextCopy.customerCalling({ shopName: "Brew Barn", expertIntroduction: "Dan, a fellow Grainfather brewer," })).toBe(
      "Brew Barn: Dan, a fellow Grainfather brewer, is calling you now from this number. Your number stays private. " +
        "During your session you can call or text this number; text DONE when you're finished.",
    );
    expect(voiceTextCopy.customerUnreachable({ shopName: "Brew Barn", expertFirstName: "Dan" })).toBe(
      "Brew Barn: we tried to call you twice. Dan can still help: reply here to text, or text CALL when you can talk.",
    );
    expect(voiceTextCopy.expertCustomerUnreachable("Sam")).toBe("Sam did not pick up twice; we have texted them. Reply here to text Sam, or text CALL to try again.");
    expect(voiceTextCopy.expertMissedCall("Sam")).toBe("Sam tried to reach you by phone. Text CALL when you can talk, or reply here.");
    expect(voiceTextCopy.customerExpertUnavailable("Dan")).toBe("Dan can't take a call right now; we've let them know. Reply here to keep texting, or text CALL to try again later.");
  });

  it("are GSM-7 only, so a text stays one segment per 160 characters", () => {
    const all = [
      ...Object.values(voiceCopy).filter((value): value is string => typeof value === "string"),
      ...Object.values(voiceTextCopy).filter((value): value is string => typeof value === "string"),
    ];
    expect(all.length).toBeGreaterThan(5);
    for (const text of all) expect(text).toMatch(/^[A-Za-z0-9 .,:;'?!-]+$/);
  });
});
