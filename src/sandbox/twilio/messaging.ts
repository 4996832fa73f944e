/**
 * SMS in the sandbox. Outbound: a message the app sends lands in the
 * recipient phone's inbox, with status callbacks (sent, delivered, or
 * failed/undelivered with an ErrorCode) that can be made to arrive out of
 * order or twice, as Twilio warns they may. Inbound: a simulated phone texts
 * a platform number; Twilio's own STOP/START handling runs first, then the
 * app's SMS webhook is called, signed.
 */
import { newSid, rfc2822 } from "./sids.js";
import type { MessageRecord, SandboxState } from "./state.js";
import { signedWebhook, type WebhookSender } from "./transport.js";

/** Twilio's default opt-out and opt-in words for long codes (REVOKE/OPTOUT are not confirmed: left to the app). */
const TWILIO_OPT_OUT = new Set(["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]);
const TWILIO_OPT_IN = new Set(["START", "YES", "UNSTOP"]);
const OPT_OUT_REPLY =
  "You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe.";
const OPT_IN_REPLY = "You have successfully been re-subscribed to messages from this number. Reply HELP for help. Reply STOP to unsubscribe.";
/** Twilio answers HELP/INFO on long codes by default, besides forwarding it (so a user gets this and the app's reply). */
const TWILIO_HELP = new Set(["HELP", "INFO"]);
const HELP_REPLY = "Reply STOP to unsubscribe. Msg&Data Rates May Apply.";

/** Carrier errors: 30003-30008 come back as "undelivered"; others as "failed". */
const UNDELIVERED_CODES = new Set([30003, 30004, 30005, 30006, 30007, 30008]);

export class MessageDelivery {
  private pending = new Set<Promise<unknown>>();

  constructor(
    private readonly state: SandboxState,
    private readonly sender: WebhookSender,
  ) {}

  resource(record: MessageRecord) {
    const base = `/2010-04-01/Accounts/${this.state.accountSid}/Messages/${record.sid}`;
    return {
      account_sid: this.state.accountSid,
      api_version: "2010-04-01",
      body: record.body,
      date_created: rfc2822(record.dateCreated),
      date_sent: record.dateSent ? rfc2822(record.dateSent) : null,
      date_updated: rfc2822(record.dateUpdated),
      direction: record.direction,
      error_code: record.errorCode,
      error_message: null,
      from: record.from,
      messaging_service_sid: null,
      num_media: "0",
      num_segments: String(segments(record.body)),
      price: null,
      price_unit: "USD",
      sid: record.sid,
      status: record.status,
      subresource_uris: { media: `${base}/Media.json` },
      to: record.to,
      uri: `${base}.json`,
    };
  }

  /** Outbound from a platform number (already validated by the REST layer). Answers "queued" at once. */
  send(input: { from: string; to: string; body: string; statusCallback: string | null; direction?: MessageRecord["direction"] }): MessageRecord {
    const now = this.state.clock.now();
    const record: MessageRecord = {
      sid: newSid("SM"),
      from: input.from,
      to: input.to,
      body: input.body,
      status: "queued",
      direction: input.direction ?? "outbound-api",
      errorCode: null,
      statusCallback: input.statusCallback,
      dateCreated: now,
      dateUpdated: now,
      dateSent: null,
    };
    this.state.addMessage(record);
    this.state.log("message-sent", { sid: record.sid, from: record.from, to: record.to, body: record.body });
    // Answer "queued" first, as Twilio does; delivery and its callbacks come after the response.
    this.track(new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.deliver(record)));
    return { ...record };
  }

  private async deliver(record: MessageRecord): Promise<void> {
    const phone = this.state.phone(record.to);
    // "failed" means it never left Twilio, so no "sent" before it; "undelivered" was sent, then lost.
    const steps: { status: string; errorCode?: number }[] = [];
    if (!phone.failWith) steps.push({ status: "sent" }, { status: "delivered" });
    else if (UNDELIVERED_CODES.has(phone.failWith)) steps.push({ status: "sent" }, { status: "undelivered", errorCode: phone.failWith });
    else steps.push({ status: "failed", errorCode: phone.failWith });
    const last = steps.at(-1);
    record.status = last?.status ?? "delivered";
    record.errorCode = last?.errorCode ?? null;
    record.dateSent = this.state.clock.now();
    record.dateUpdated = record.dateSent;
    if (!phone.failWith) {
      this.state.addPhoneMessage(phone, { sid: record.sid, direction: "received", peer: record.from, body: record.body, at: record.dateSent, status: "delivered" });
    }
    this.state.changed();
    if (!record.statusCallback) return;
    const order = this.state.settings.callbackOrder;
    const sequence = order === "reversed" ? [...steps].reverse() : order === "duplicated" ? [...steps, ...steps] : steps;
    for (const step of sequence) {
      await this.callback(record, step.status, step.errorCode);
    }
  }

  private async callback(record: MessageRecord, status: string, errorCode?: number): Promise<void> {
    if (!record.statusCallback) return;
    const params: Record<string, string> = {
      AccountSid: this.state.accountSid,
      ApiVersion: "2010-04-01",
      From: record.from,
      To: record.to,
      MessageSid: record.sid,
      SmsSid: record.sid,
      MessageStatus: status,
      SmsStatus: status,
      ...(errorCode ? { ErrorCode: String(errorCode) } : {}),
    };
    const answer = await this.sender(signedWebhook(this.state.authToken, { url: record.statusCallback, method: "POST", params }));
    this.state.log("status-callback", { sid: record.sid, status, answer: answer.status });
  }

  /** A simulated phone texts a platform number. */
  async receive(from: string, to: string, body: string): Promise<{ sid: string; answer: number | null }> {
    const owned = this.state.numbers.get(to);
    const now = this.state.clock.now();
    const sid = newSid("SM");
    const phone = this.state.phone(from);
    this.state.addPhoneMessage(phone, { sid, direction: "sent", peer: to, body, at: now, status: "sent" });
    this.state.log("message-received", { sid, from, to, body });
    if (!owned) {
      this.state.changed();
      return { sid, answer: null }; // nobody owns that number: the text goes nowhere
    }
    // The account's message log lists inbound messages too, as Twilio's does.
    this.state.addMessage({
      sid,
      from,
      to,
      body,
      status: "received",
      direction: "inbound",
      errorCode: null,
      statusCallback: null,
      dateCreated: now,
      dateUpdated: now,
      dateSent: now,
    });
    const word = body.trim().toUpperCase();
    const pair = `${from}|${to}`;
    if (TWILIO_OPT_OUT.has(word)) {
      const wasBlocked = this.state.blocked.has(pair);
      this.state.blocked.add(pair);
      this.state.changed();
      if (!wasBlocked && this.state.settings.autoReplies) this.autoReply(to, from, OPT_OUT_REPLY);
    } else if (TWILIO_OPT_IN.has(word) && this.state.blocked.delete(pair)) {
      this.state.changed();
      if (this.state.settings.autoReplies) this.autoReply(to, from, OPT_IN_REPLY);
    } else if (TWILIO_HELP.has(word) && !this.state.blocked.has(pair) && this.state.settings.autoReplies) {
      this.autoReply(to, from, HELP_REPLY);
    }
    if (!owned.smsUrl) return { sid, answer: null };
    const params = inboundSmsParams({ accountSid: this.state.accountSid, sid, from, to, body });
    const answer = await this.sender(signedWebhook(this.state.authToken, { url: owned.smsUrl, method: owned.smsMethod, params }));
    this.state.log("sms-webhook", { sid, answer: answer.status });
    return { sid, answer: answer.status };
  }

  /** Twilio's own confirmation: not sent by the app, not subject to the block it confirms. */
  private autoReply(from: string, to: string, body: string): void {
    this.send({ from, to, body, statusCallback: null, direction: "outbound-reply" });
  }

  private track(work: Promise<unknown>): void {
    const tracked = work.catch((error: unknown) => this.state.log("delivery-error", { message: String(error) })).finally(() => {
      this.pending.delete(tracked);
    });
    this.pending.add(tracked);
  }

  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}

/** The parameters of Twilio's inbound-SMS webhook (geo fields empty, as they often are). */
export function inboundSmsParams(input: { accountSid: string; sid: string; from: string; to: string; body: string }): Record<string, string> {
  return {
    ToCountry: "US",
    ToState: "CA",
    SmsMessageSid: input.sid,
    NumMedia: "0",
    ToCity: "",
    FromZip: "",
    SmsSid: input.sid,
    FromState: "",
    SmsStatus: "received",
    FromCity: "",
    Body: input.body,
    FromCountry: "US",
    To: input.to,
    ToZip: "",
    NumSegments: String(segments(input.body)),
    MessageSid: input.sid,
    AccountSid: input.accountSid,
    From: input.from,
    ApiVersion: "2010-04-01",
  };
}

/** SMS segments: 160 GSM-7 characters (153 per part when split), 70 UCS-2 (67 per part). */
export function segments(body: string): number {
  // eslint-disable-next-line no-control-regex -- GSM-7 basic set is within printable ASCII plus newlines here
  const gsm = /^[\x0a\x0d\x20-\x7e£¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà€]*$/.test(body);
  const [single, part] = gsm ? [160, 153] : [70, 67];
  return body.length <= single ? 1 : Math.ceil(body.length / part);
}
