import { describe, expect, it } from "vitest";
import {
  normalizeKeywordText,
  OPT_OUT_KEYWORDS,
  parseInbound,
  TWILIO_HANDLED_OPT_OUTS,
  type InboundIntent,
} from "./keywords.js";

const cases: [string, InboundIntent][] = [
  ["YES", { kind: "join" }],
  ["yes", { kind: "join" }],
  ["  Yes!  ", { kind: "join" }],
  ["YES!!", { kind: "join" }],
  ["yes !", { kind: "join" }],
  ["Yes?!.", { kind: "join" }],
  ["ＹＥＳ", { kind: "join" }], // full-width letters, as some phone keyboards send them
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
  ["no", { kind: "offer-reply", accept: false, code: null }],
  ["N", { kind: "offer-reply", accept: false, code: null }],
  ["Pass.", { kind: "offer-reply", accept: false, code: null }],
  ["decline", { kind: "offer-reply", accept: false, code: null }],
  ["accept", { kind: "offer-reply", accept: true, code: null }],
  ["DONE", { kind: "end-session" }],
  ["call", { kind: "call" }],
  ["Call!", { kind: "call" }],
  ["done!", { kind: "end-session" }],
  ["5", { kind: "rating", score: 5 }],
  [" 1 ", { kind: "rating", score: 1 }],
  ["3!", { kind: "rating", score: 3 }],
  // ordinary text
  ["6", { kind: "text", body: "6" }],
  ["0", { kind: "text", body: "0" }],
  ["12", { kind: "text", body: "12" }], // not a rating of 1
  ["45", { kind: "text", body: "45" }], // not a rating of 5
  ["x5", { kind: "text", body: "x5" }],
  ["stop all", { kind: "text", body: "stop all" }], // STOPALL is one word
  ["  Is the mash too thick?  ", { kind: "text", body: "Is the mash too thick?" }],
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

describe("normalizeKeywordText", () => {
  it.each([
    ["  yes   7kq  ", "YES 7KQ"],
    ["stop\t\n", "STOP"],
    ["Yes!!!", "YES"],
    ["ok .", "OK"],
    ["why? no.", "WHY? NO"], // only trailing punctuation goes
    ["ｓｔｏｐ", "STOP"],
  ])("%j -> %j", (body, normalized) => {
    expect(normalizeKeywordText(body)).toBe(normalized);
  });
});

describe("TWILIO_HANDLED_OPT_OUTS", () => {
  it("lists the opt-out words Twilio confirms itself, leaving REVOKE and OPTOUT to us", () => {
    expect(TWILIO_HANDLED_OPT_OUTS).toEqual(["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]);
    expect(OPT_OUT_KEYWORDS.filter((keyword) => !TWILIO_HANDLED_OPT_OUTS.includes(keyword))).toEqual(["REVOKE", "OPTOUT"]);
  });
});
