/**
 * Phone numbers quoted anywhere inside a logged error are masked: in prose
 * fields other than the message (a pg error's `detail`), in nested objects
 * (a Twilio RestException's `details`), and in the errors pino serializes
 * itself (an AggregateError's members), whose objects are not plain.
 */
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/lib/logger.js";

const phone = "+14155550123";
const masked = "+1********23";

function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: "debug", destination }), lines };
}

/** Shaped like twilio's RestException: a class, with the API's answer in `details` and `moreInfo`. */
class RestException extends Error {
  readonly status = 400;
  readonly code = 21211;
  readonly moreInfo = `https://www.twilio.com/docs/errors/21211?number=${phone}`;
  readonly details = { to: phone, reason: `The number ${phone} is unreachable`, attempts: [{ number: phone }] };
}

describe("phone numbers inside logged errors", () => {
  it("are masked in every string of the error, at any depth, however the error is attached", () => {
    const { logger, lines } = captureLogger();
    const pgError = Object.assign(new Error('duplicate key value violates unique constraint "Expert_shopId_phone_key"'), {
      code: "23505",
      detail: `Key ("shopId", phone)=(5f0c8e1e-0000-4000-8000-000000000000, ${phone}) already exists.`,
    });
    const twilioError = new RestException(`The 'To' number ${phone} is not a valid phone number.`);
    const aggregate = new AggregateError([pgError, twilioError], "several sends failed");

    logger.error({ err: pgError }, "pg");
    logger.error({ err: twilioError }, "twilio");
    logger.error({ err: aggregate }, "aggregate");
    logger.warn({ job: { id: "j1", failure: twilioError } }, "nested");

    expect(lines).toHaveLength(4);
    for (const line of lines) {
      const text = JSON.stringify(line);
      expect(text, String(line.msg)).not.toContain(phone);
      expect(text, String(line.msg)).not.toContain(phone.slice(1));
      expect(text, String(line.msg)).toContain(masked);
    }
    const [pgLine, twilioLine, aggregateLine, nestedLine] = lines as [
      { err: Record<string, unknown> },
      { err: Record<string, unknown> },
      { err: { aggregateErrors: Record<string, unknown>[] } },
      { job: { failure: Record<string, unknown> } },
    ];
    // What explains the failure stays readable.
    expect(pgLine.err).toMatchObject({ code: "23505", detail: expect.stringContaining(`, ${masked}) already exists.`) as unknown });
    const maskedDetails = { to: masked, reason: `The number ${masked} is unreachable`, attempts: [{ number: masked }] };
    expect(twilioLine.err).toMatchObject({ type: "RestException", status: 400, code: 21211, details: maskedDetails });
    expect(twilioLine.err.moreInfo).toBe(`https://www.twilio.com/docs/errors/21211?number=${masked}`);
    expect(aggregateLine.err.aggregateErrors[0]).toMatchObject({ code: "23505" });
    expect(aggregateLine.err.aggregateErrors[1]).toMatchObject({ code: 21211, details: maskedDetails });
    expect(nestedLine.job.failure).toMatchObject({ details: maskedDetails });
  });

  it("are walked within a bound, so a cyclic or very deep error property cannot stall logging", () => {
    const { logger, lines } = captureLogger();
    let deep: Record<string, unknown> = { note: `call ${phone}` };
    for (let level = 0; level < 50; level++) deep = { level: deep };
    const cyclic: Record<string, unknown> = { note: `call ${phone}` };
    cyclic.self = cyclic;
    logger.error({ err: Object.assign(new Error("deep"), { deep, cyclic }) }, "bounded");
    const text = JSON.stringify(lines);
    expect(text).toContain("[too deep to log]");
    expect(text).not.toContain(phone);
  });
});
