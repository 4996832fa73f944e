import { describe, expect, it } from "vitest";
import { OPT_OUT_KEYWORDS, parseInbound, type InboundIntent } from "./keywords.js";

const cases: [string, InboundIntent][] = [
  ["YES", { kind: "join" }],
  ["yes", { kind: "join" }],
  ["  Yes!  ", { kind: "join" }],
  ["Join", { kind: "join" }],
  ["y", { kind: "join" }],
  ["ON", { kind: "available" }],
  ["available.", { kind: "available" }],
  ["off", { kind: "pause" }],
  ["Pause", { kind: "pause" }],
  ["status", { kind: "status" }],
  ["STATUS?", { kind: "status" }],
  ["help", { kind: "help" }],
  ["Info", { kind: "help" }],
  ["stop", { kind: "opt-out", keyword: "STOP" }],
  ["Stop.", { kind: "opt-out", keyword: "STOP" }],
  ["STOPALL", { kind: "opt-out", keyword: "STOPALL" }],
  ["unsubscribe", { kind: "opt-out", keyword: "UNSUBSCRIBE" }],
  ["cancel", { kind: "opt-out", keyword: "CANCEL" }],
  ["END", { kind: "opt-out", keyword: "END" }],
  ["quit", { kind: "opt-out", keyword: "QUIT" }],
  ["revoke", { kind: "opt-out", keyword: "REVOKE" }],
  ["optout", { kind: "opt-out", keyword: "OPTOUT" }],
  ["start", { kind: "opt-in" }],
  ["UNSTOP", { kind: "opt-in" }],
  ["YES 7KQ", { kind: "offer-reply", accept: true, code: "7KQ" }],
  ["yes 7kq", { kind: "offer-reply", accept: true, code: "7KQ" }],
  ["  Yes   7kq ", { kind: "offer-reply", accept: true, code: "7KQ" }],
  ["yes7kq", { kind: "offer-reply", accept: true, code: "7KQ" }],
  ["Y 7KQ", { kind: "offer-reply", accept: true, code: "7KQ" }],
  ["accept 7kq", { kind: "offer-reply", accept: true, code: "7KQ" }],
  ["NO 7KQ", { kind: "offer-reply", accept: false, code: "7KQ" }],
  ["no 7kq.", { kind: "offer-reply", accept: false, code: "7KQ" }],
  ["pass 7KQ", { kind: "offer-reply", accept: false, code: "7KQ" }],
  ["DONE", { kind: "end-session" }],
  ["done!", { kind: "end-session" }],
  ["5", { kind: "rating", score: 5 }],
  [" 1 ", { kind: "rating", score: 1 }],
  // ordinary text
  ["6", { kind: "text", body: "6" }],
  ["STOP PLEASE", { kind: "text", body: "STOP PLEASE" }],
  ["yes I can help with mash-out", { kind: "text", body: "yes I can help with mash-out" }],
  ["YES 7K", { kind: "text", body: "YES 7K" }],
  ["YES 0OI", { kind: "text", body: "YES 0OI" }], // look-alike characters are never in a code
  ["Add hot acid water at mash-out?", { kind: "text", body: "Add hot acid water at mash-out?" }],
  ["", { kind: "text", body: "" }],
];

describe("parseInbound", () => {
  it.each(cases)("%j -> %o", (body, expected) => {
    expect(parseInbound(body)).toEqual(expected);
  });

  it("knows every opt-out keyword", () => {
    for (const keyword of OPT_OUT_KEYWORDS) expect(parseInbound(keyword.toLowerCase()).kind).toBe("opt-out");
  });
});
