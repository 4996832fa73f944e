/**
 * The Twilio REST API (2010-04-01) subset the project calls, answering as
 * Twilio does: basic auth with the account SID and auth token, JSON bodies
 * shaped like Twilio's, errors as {code, message, more_info, status}. Every
 * request is first checked against the official OpenAPI spec; a request the
 * real API would refuse is refused here too, and remembered for tests.
 */
import formbody from "@fastify/formbody";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { timingSafeEqual } from "node:crypto";
import { toE164 } from "./e164.js";
import { checkTwilioRequest } from "./contract.js";
import type { MessageDelivery } from "./messaging.js";
import { MESSAGE_FILTERS, MessageFilterError, selectMessages, type MessageFilters } from "./message-filter.js";
import { supplyAreaOf } from "./number-supply.js";
import { PageTokenError, pageOf } from "./paging.js";
import { newSid, rfc2822 } from "./sids.js";
import type { MessageRecord, OwnedNumber, SandboxState } from "./state.js";
import { CONFERENCE_FILTERS, ConferenceFilterError, type ConferenceFilters } from "./voice/conferences.js";
import { TwilioApiError, type VoiceEngine } from "./voice/engine.js";

type Form = Record<string, string | string[]>;

export function twilioError(reply: FastifyReply, status: number, code: number, message: string) {
  return reply.code(status).send({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

function first(form: Form, key: string): string | undefined {
  const value = form[key];
  return Array.isArray(value) ? value[0] : value;
}

function numberResource(state: SandboxState, owned: OwnedNumber) {
  const base = `/2010-04-01/Accounts/${state.accountSid}`;
  return {
    account_sid: state.accountSid,
    address_requirements: "none",
    address_sid: null,
    api_version: "2010-04-01",
    beta: false,
    bundle_sid: null,
    capabilities: { voice: true, sms: true, mms: false, fax: false },
    date_created: rfc2822(owned.dateCreated),
    date_updated: rfc2822(owned.dateCreated),
    emergency_address_sid: null,
    emergency_address_status: "unregistered",
    emergency_status: "Inactive",
    friendly_name: owned.phoneNumber,
    identity_sid: null,
    origin: "twilio",
    phone_number: owned.phoneNumber,
    sid: owned.sid,
    sms_application_sid: null,
    sms_fallback_method: "POST",
    sms_fallback_url: null,
    sms_method: owned.smsMethod,
    sms_url: owned.smsUrl,
    status: "in-use",
    status_callback: owned.statusCallback,
    status_callback_method: "POST",
    subresource_uris: { assigned_add_ons: `${base}/IncomingPhoneNumbers/${owned.sid}/AssignedAddOns.json` },
    trunk_sid: null,
    type: "local",
    uri: `${base}/IncomingPhoneNumbers/${owned.sid}.json`,
    voice_application_sid: null,
    voice_caller_id_lookup: false,
    voice_fallback_method: "POST",
    voice_fallback_url: null,
    voice_method: owned.voiceMethod,
    voice_receive_mode: "voice",
    voice_url: owned.voiceUrl,
  };
}

function page<T>(state: SandboxState, key: string, path: string, items: T[]) {
  const uri = `/2010-04-01/Accounts/${state.accountSid}/${path}`;
  return { [key]: items, end: Math.max(0, items.length - 1), first_page_uri: uri, next_page_uri: null, page: 0, page_size: 50, previous_page_uri: null, start: 0, uri };
}

export async function registerTwilioRest(
  app: FastifyInstance,
  { state, messaging, voice }: { state: SandboxState; messaging: MessageDelivery; voice: VoiceEngine },
) {
  await app.register(async (api) => {
    await api.register(formbody);

    api.addHook("onRequest", async (request: FastifyRequest, reply: FastifyReply) => {
      const expected = Buffer.from(`Basic ${Buffer.from(`${state.accountSid}:${state.authToken}`).toString("base64")}`);
      const given = Buffer.from(request.headers.authorization ?? "");
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return twilioError(reply, 401, 20003, "Authenticate");
      }
    });

    api.addHook("preHandler", async (request: FastifyRequest, reply: FastifyReply) => {
      const [path = "", search = ""] = request.url.split("?");
      const { violations } = checkTwilioRequest({
        method: request.method,
        path,
        query: Object.fromEntries(new URLSearchParams(search)),
        form: (request.body ?? {}) as Form,
        ...(request.headers["content-type"] ? { contentType: request.headers["content-type"] } : {}),
      });
      if (violations.length > 0) {
        const messages = violations.map((violation) => `${violation.where}: ${violation.message}`);
        state.contractViolations.push({ method: request.method, path, violations: messages });
        state.log("contract-violation", { method: request.method, path, violations: messages });
        return twilioError(reply, 400, 21201, `Request does not match the API: ${messages.join("; ")}`);
      }
      const fault = state.faults[0];
      if (fault) {
        fault.count -= 1;
        if (fault.count <= 0) state.faults.shift();
        state.log("fault-injected", { method: request.method, path, status: fault.status });
        return twilioError(reply, fault.status, fault.code, fault.message);
      }
      const accountSid = (request.params as { AccountSid?: string }).AccountSid;
      if (accountSid && accountSid !== state.accountSid) return twilioError(reply, 404, 20404, "The requested resource was not found");
    });

    api.setErrorHandler((error: Error, _request, reply) => {
      if (error instanceof TwilioApiError) return twilioError(reply, error.status, error.code, error.message);
      state.log("sandbox-error", { message: error.message });
      return twilioError(reply, 500, 20500, "Internal Server Error");
    });

    const base = "/2010-04-01/Accounts/:AccountSid";

    /** A list answered with Twilio's paging; `filterNames` are carried into the page URIs. */
    const listPage = <T extends { sid: string }>(
      reply: FastifyReply,
      key: string,
      path: string,
      items: T[],
      query: Record<string, string | undefined>,
      filterNames: readonly string[],
    ) => {
      try {
        return pageOf(key, items, {
          path: `/2010-04-01/Accounts/${state.accountSid}/${path}`,
          filters: filterNames.flatMap((name): [string, string][] => (query[name] === undefined ? [] : [[name, query[name]]])),
          pageSize: query["PageSize"],
          page: query["Page"],
          pageToken: query["PageToken"],
        });
      } catch (error) {
        if (error instanceof PageTokenError) return twilioError(reply, 400, 20001, error.message);
        throw error;
      }
    };

    api.post(`${base}/Messages.json`, async (request, reply) => {
      const form = request.body as Form;
      const to = first(form, "To") ?? "";
      const from = first(form, "From") ?? "";
      const body = first(form, "Body") ?? "";
      if (!toE164(to)) return twilioError(reply, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
      if (!state.numbers.has(from)) {
        return twilioError(reply, 400, 21606, `The From phone number ${from} is not a valid, SMS-capable inbound phone number or short code for your account.`);
      }
      if (body.length === 0) return twilioError(reply, 400, 21602, "Message body is required.");
      if (body.length > 1600) return twilioError(reply, 400, 21617, "The concatenated message body exceeds the 1600 character limit.");
      if (state.blocked.has(`${to}|${from}`)) return twilioError(reply, 400, 21610, "Attempt to send to unsubscribed recipient");
      const record = messaging.send({ from, to, body, statusCallback: first(form, "StatusCallback") ?? null });
      return reply.code(201).send(messaging.resource(record));
    });

    api.get(`${base}/Messages.json`, async (request, reply) => {
      const query = request.query as Record<string, string | undefined>;
      const filters: MessageFilters = Object.fromEntries(MESSAGE_FILTERS.flatMap((name) => (query[name] === undefined ? [] : [[name, query[name]]])));
      let selected: MessageRecord[];
      try {
        selected = selectMessages(state.messages.values(), filters);
      } catch (error) {
        if (error instanceof MessageFilterError) return twilioError(reply, 400, 20001, error.message);
        throw error;
      }
      return listPage(reply, "messages", "Messages.json", selected.map((record) => messaging.resource(record)), query, MESSAGE_FILTERS);
    });

    api.get(`${base}/Messages/:Sid.json`, async (request, reply) => {
      const record = state.messages.get((request.params as { Sid: string }).Sid);
      if (!record) return twilioError(reply, 404, 20404, "The requested resource was not found");
      return messaging.resource(record);
    });

    api.get(`${base}/AvailablePhoneNumbers/:CountryCode/Local.json`, async (request) => {
      const { CountryCode } = request.params as { CountryCode: string };
      const query = request.query as { PageSize?: string; AreaCode?: string; Contains?: string };
      const limit = Math.min(Number(query.PageSize ?? 20), 50);
      const filter = { ...(query.AreaCode ? { areaCode: query.AreaCode } : {}), ...(query.Contains ? { contains: query.Contains } : {}) };
      const numbers = CountryCode === "US" ? state.availableNumbers(limit, filter) : [];
      return page(
        state,
        "available_phone_numbers",
        `AvailablePhoneNumbers/${CountryCode}/Local.json`,
        numbers.map((number) => {
          const area = supplyAreaOf(number);
          return {
            address_requirements: "none",
            beta: false,
            capabilities: { voice: true, SMS: true, MMS: false },
            friendly_name: `(${number.slice(2, 5)}) ${number.slice(5, 8)}-${number.slice(8)}`,
            iso_country: "US",
            lata: null,
            latitude: null,
            locality: area?.locality ?? null,
            longitude: null,
            phone_number: number,
            postal_code: null,
            rate_center: null,
            region: area?.region ?? null,
          };
        }),
      );
    });

    api.post(`${base}/IncomingPhoneNumbers.json`, async (request, reply) => {
      const form = request.body as Form;
      const areaCode = first(form, "AreaCode");
      // Twilio takes either the exact number or an area code to pick one from.
      const phoneNumber = first(form, "PhoneNumber") ?? (areaCode ? state.availableNumbers(1, { areaCode })[0] : undefined);
      if (!phoneNumber || !state.isForSale(phoneNumber)) {
        const wanted = first(form, "PhoneNumber") ?? (areaCode ? `in area code ${areaCode}` : "");
        return twilioError(reply, 400, 21422, `PhoneNumber ${wanted} is not available.`);
      }
      const method = (key: string): "GET" | "POST" => (first(form, key) === "GET" ? "GET" : "POST");
      const owned: OwnedNumber = {
        sid: newSid("PN"),
        phoneNumber,
        smsUrl: first(form, "SmsUrl") ?? null,
        smsMethod: method("SmsMethod"),
        voiceUrl: first(form, "VoiceUrl") ?? null,
        voiceMethod: method("VoiceMethod"),
        statusCallback: first(form, "StatusCallback") ?? null,
        dateCreated: state.clock.now(),
      };
      state.addNumber(owned);
      state.log("number-bought", { phoneNumber });
      return reply.code(201).send(numberResource(state, owned));
    });

    api.get(`${base}/IncomingPhoneNumbers.json`, async (request, reply) => {
      const query = request.query as Record<string, string | undefined>;
      const wanted = query["PhoneNumber"];
      const owned = [...state.numbers.values()].filter((number) => !wanted || number.phoneNumber === wanted);
      return listPage(reply, "incoming_phone_numbers", "IncomingPhoneNumbers.json", owned.map((number) => numberResource(state, number)), query, ["PhoneNumber"]);
    });

    api.post(`${base}/Calls.json`, async (request, reply) => reply.code(201).send(voice.createCall(request.body as Form)));
    api.get(`${base}/Calls.json`, async () => page(state, "calls", "Calls.json", voice.listCalls()));
    api.get(`${base}/Calls/:Sid.json`, async (request, reply) => {
      const call = voice.getCall((request.params as { Sid: string }).Sid);
      return call ?? twilioError(reply, 404, 20404, "The requested resource was not found");
    });
    api.post(`${base}/Calls/:Sid.json`, async (request) => voice.updateCall((request.params as { Sid: string }).Sid, request.body as Form));

    api.get(`${base}/Conferences.json`, async (request, reply) => {
      const query = request.query as Record<string, string | undefined>;
      const filters: ConferenceFilters = Object.fromEntries(CONFERENCE_FILTERS.flatMap((name) => (query[name] === undefined ? [] : [[name, query[name]]])));
      try {
        return listPage(reply, "conferences", "Conferences.json", voice.listConferences(filters), query, CONFERENCE_FILTERS);
      } catch (error) {
        if (error instanceof ConferenceFilterError) return twilioError(reply, 400, 20001, error.message);
        throw error;
      }
    });
    api.get(`${base}/Conferences/:Sid.json`, async (request, reply) => {
      const conference = voice.getConference((request.params as { Sid: string }).Sid);
      return conference ?? twilioError(reply, 404, 20404, "The requested resource was not found");
    });
    api.post(`${base}/Conferences/:Sid.json`, async (request) =>
      voice.updateConference((request.params as { Sid: string }).Sid, request.body as Form),
    );
  });
}
