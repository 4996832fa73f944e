/**
 * What voice sessions say on the phone (read by Twilio's <Say>) and the few
 * texts that go with them. Pure: names in, words out. Spoken lines are short
 * and name people by first name only; a number is never read out.
 */
import { firstName } from "./copy.js";

export interface WhisperInput {
  customerName: string | null;
  productName: string | null;
  shopName: string;
}

/** "about the Grainfather G30" or, without a product, "for the Brew Barn expert line". */
function subject(input: Pick<WhisperInput, "productName" | "shopName">): string {
  const product = input.productName?.trim();
  return product ? `about ${product}` : `for the ${input.shopName} expert line`;
}

function customer(name: string | null): string {
  return firstName(name, "a customer");
}

/** The offer, heard by the expert who picks up: the words of issue 8, "Press 1 to take the call, 2 to pass." */
export function offerWhisper(input: WhisperInput): string {
  return `Question ${subject(input)} from ${customer(input.customerName)}. Press 1 to take the call, 2 to pass.`;
}

/** An expert rung into a session that is already theirs (a call back, a CALL text, the customer calling in). */
export function sessionRingWhisper(input: WhisperInput): string {
  return `${customer(input.customerName)} would like to talk now, ${subject(input)}. Press 1 to take the call, 2 to keep texting.`;
}

export function customerGreeting(input: { customerName: string | null; shopName: string; expertIntroduction: string }): string {
  const hello = input.customerName ? `Hi ${firstName(input.customerName, "there")}, this` : "Hi, this";
  // expertIntroduction ends with a comma ("Dan, a fellow Grainfather brewer,"): it reads as one sentence.
  return `${hello} is the ${input.shopName} expert line. Connecting you with ${input.expertIntroduction.replace(/,$/, "")}, about your question.`;
}

export const voiceCopy = {
  consentNotice: "This call will be recorded. If that is not OK with you, please hang up now.",
  noChoice: "We did not hear a choice, so we will ask someone else. Goodbye.",
  passed: "No problem, we will ask someone else. Goodbye.",
  keepTexting: "No problem. You can keep texting on this number. Goodbye.",
  taken: "Sorry, this question has just been taken or closed. Thank you anyway. Goodbye.",
  atCapacity: "You are already in as many sessions as you take at once, so we will ask someone else. Goodbye.",
  notAvailable: "Sorry, this call cannot be connected right now. Goodbye.",
  capWarning: "One minute left on this call.",
  theirMessage: "Here is the customer's message.",
  callingBack: (otherFirstName: string) => `Thanks. We will call you right back on this number and connect you with ${otherFirstName}. Goodbye.`,
  hold: (otherFirstName: string) => `Thanks. Calling ${otherFirstName} now. Please stay on the line.`,
  connecting: (otherFirstName: string) => `Connecting you with ${otherFirstName}. Please hold.`,
  customerMissed: (customerFirstName: string) =>
    `${customerFirstName} did not pick up. We will call again in two minutes and ring you when they answer. Goodbye.`,
  customerUnreachable: (customerFirstName: string) =>
    `${customerFirstName} did not pick up again. We have texted them, and you can keep helping by text on this number. Goodbye.`,
  expertUnavailable: (expertFirstName: string) =>
    `${expertFirstName} cannot take the call right now. We have let them know, and you can text this number to keep talking. Goodbye.`,
};

export const voiceTextCopy = {
  /** The customer's first text of a voice session, from the number that is about to ring. */
  customerCalling: (input: { shopName: string; expertIntroduction: string }) =>
    `${input.shopName}: ${input.expertIntroduction} is calling you now from this number. Your number stays private. ` +
    `During your session you can call or text this number; text DONE when you're finished.`,
  customerUnreachable: (input: { shopName: string; expertFirstName: string }) =>
    `${input.shopName}: we tried to call you twice. ${input.expertFirstName} can still help: reply here to text, or text CALL when you can talk.`,
  expertCustomerUnreachable: (customerFirstName: string) =>
    `${customerFirstName} did not pick up twice; we have texted them. Reply here to text ${customerFirstName}, or text CALL to try again.`,
  expertMissedCall: (customerFirstName: string) =>
    `${customerFirstName} tried to reach you by phone. Text CALL when you can talk, or reply here.`,
  customerExpertUnavailable: (expertFirstName: string) =>
    `${expertFirstName} can't take a call right now; we've let them know. Reply here to keep texting, or text CALL to try again later.`,
  calling: "Calling you both now.",
  alreadyCalling: "A call is already on its way.",
};
