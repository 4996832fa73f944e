import { describe, expect, it } from "vitest";
// Types only: mutation testing copies the project without src/generated.
import type { MessageStatus } from "../../generated/prisma/enums.js";
import { fromTwilioMessageStatus, statusesBefore } from "./message-status.js";

describe("fromTwilioMessageStatus", () => {
  // Every MessageStatus value Twilio documents for a message, and what we store for it.
  const cases: [twilio: string, ours: MessageStatus | null][] = [
    ["accepted", "sending"],
    ["scheduled", "sending"],
    ["queued", "sending"],
    ["sending", "sending"],
    ["sent", "sent"],
    ["delivered", "delivered"],
    ["read", "delivered"],
    ["undelivered", "undelivered"],
    ["failed", "failed"],
    ["canceled", "failed"],
    // Statuses of inbound messages: a status callback for one we sent never carries them.
    ["receiving", null],
    ["received", null],
  ];

  it.each(cases)("maps %s to %s", (twilio, ours) => {
    expect(fromTwilioMessageStatus(twilio)).toBe(ours);
  });

  it.each(["", "Delivered", "SENT", " sent", "delivered ", "cancelled", "constructor", "toString", "__proto__"])(
    "knows nothing of %j",
    (twilio) => {
      expect(fromTwilioMessageStatus(twilio)).toBeNull();
    },
  );

  it("never gives back queued: that status is ours alone, for a message Twilio has not taken yet", () => {
    for (const [twilio] of cases) expect(fromTwilioMessageStatus(twilio)).not.toBe("queued");
  });
});

describe("statusesBefore", () => {
  // The stored statuses each new status may replace; a status never replaces itself or its equals.
  // A Record, so that the type checker fails this test when a status is added.
  const replaces: Record<MessageStatus, MessageStatus[]> = {
    queued: [],
    sending: ["queued"],
    received: ["queued"],
    sent: ["queued", "sending", "received"],
    delivered: ["queued", "sending", "received", "sent"],
    undelivered: ["queued", "sending", "received", "sent"],
    failed: ["queued", "sending", "received", "sent"],
  };
  const statuses = Object.keys(replaces) as MessageStatus[];
  const cases = Object.entries(replaces) as [MessageStatus, MessageStatus[]][];

  it.each(cases)("%s replaces %j", (next, older) => {
    expect([...statusesBefore(next)].sort()).toEqual([...older].sort());
  });

  it("only moves forward: a late 'sent' never overwrites 'delivered', and a final status is never replaced", () => {
    expect(statusesBefore("sent")).not.toContain("delivered");
    for (const final of ["delivered", "undelivered", "failed"] as const) {
      for (const next of statuses) expect(statusesBefore(next)).not.toContain(final);
    }
  });
});
