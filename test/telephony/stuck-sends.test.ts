/**
 * An SMS whose send attempt died between claiming the row (queued ->
 * sending) and Twilio's answer is not lost: the same job's retry takes the
 * claim over once the lease has run out, and a sweep settles what no job
 * will come back for, with one warn line per row that names no phone.
 * Each row below is left exactly as such a crash leaves it.
 *
 * Nor is one whose send job Redis lost while the row was still `queued`
 * (the relay had published it): the same sweep re-queues it, and only it.
 */
import { Writable } from "node:stream";
import { Queue } from "bullmq";
import { beforeAll, describe, expect, it } from "vitest";
import { createRedis } from "../../src/deps.js";
import { QUEUES } from "../../src/jobs/define.js";
import { createLogger } from "../../src/lib/logger.js";
import { enqueue } from "../../src/modules/outbox/outbox.js";
import { UNSUBSCRIBED_RECIPIENT } from "../../src/lib/twilio-errors.js";
import { MAX_LOST_JOB_REQUEUES, requeueJobId, resendJobId, SEND_OVERDUE_AFTER_MS } from "../../src/modules/telephony/lost-send-jobs.js";
import { FAILURE_REASONS, LOST_SEND_JOB_LOG, SENDING_LEASE_MS, STUCK_SMS_LOG } from "../../src/modules/telephony/send-claims.js";
import { SEND_SMS } from "../../src/modules/telephony/sms.js";
import { settleStuckSmsJob, STUCK_AFTER_MS } from "../../src/modules/telephony/stuck-sends.js";
import { adminHeaders, nextPhone } from "../helpers/factories.js";
import { useTelephonyContext } from "../helpers/telephony.js";

const ctx = useTelephonyContext();
let shopId: string;
let line: string;
let telephonyQueue: Queue;

const sentTo = (phone: string) => ctx().sandbox.state.events.filter((event) => event.kind === "message-sent" && event.detail.to === phone).length;
const ago = (ms: number) => new Date(Date.now() - ms);

/** An outbound message as a crash after the claim leaves it: `sending`, claimed at `claimedAt`. */
async function claimedMessage(fields: { claimedAt: Date; twilioSid?: string; interruptedSends?: number }) {
  const phone = nextPhone();
  const message = await ctx().deps.prisma.message.create({
    data: {
      shopId,
      direction: "outbound",
      purpose: "test",
      from: line,
      to: phone,
      body: "Your question has an answer",
      status: "sending",
      sendingClaimedAt: fields.claimedAt,
      interruptedSends: fields.interruptedSends ?? 0,
      ...(fields.twilioSid ? { twilioSid: fields.twilioSid } : {}),
    },
  });
  return { id: message.id, phone };
}

/** The send job's retry, as BullMQ runs it after the crash (same job id). */
async function retrySendJob(messageId: string) {
  await ctx().deps.prisma.$transaction((tx) =>
    enqueue(tx, { queue: QUEUES.telephony, name: SEND_SMS, payload: { messageId }, jobId: `sms-${messageId}` }),
  );
  await ctx().settle();
}

const row = (id: string) => ctx().deps.prisma.message.findUniqueOrThrow({ where: { id } });

/** A logger whose lines the test can read. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: "info",
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const text of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(text));
        done();
      },
    }),
  });
  return { logger, lines };
}

const sweepContext = { jobId: "sweep", attempt: 1, delayUntil: () => Promise.reject(new Error("no delay expected")), rateLimited: () => Promise.reject(new Error("no rate limit expected")) };

beforeAll(async () => {
  const { app, deps, settle } = ctx();
  const shop = await app.inject({ method: "POST", url: "/v1/admin/shops", headers: adminHeaders, payload: { name: "Brew Barn" } });
  shopId = shop.json().shop.id;
  const headers = { authorization: `Bearer ${shop.json().apiKey.key}` };
  await app.inject({ method: "POST", url: "/v1/experts", headers, payload: { phone: nextPhone(), name: "Al", timeZone: "UTC" } }); // buys the line
  await settle();
  line = (await deps.prisma.phoneNumber.findFirstOrThrow({ where: { shopId } })).e164;
  telephonyQueue = new Queue(QUEUES.telephony, { connection: createRedis(deps.config.REDIS_URL, "worker"), prefix: deps.queuePrefix });
  return () => telephonyQueue.close();
});

describe("the send job's retry after a crash mid-send", () => {
  it("takes over a claim past its lease and sends the message once", async () => {
    const message = await claimedMessage({ claimedAt: ago(SENDING_LEASE_MS + 60_000) });
    await retrySendJob(message.id);
    expect(await row(message.id)).toMatchObject({
      status: "delivered",
      twilioSid: expect.stringMatching(/^SM[0-9a-f]{32}$/),
      interruptedSends: 1,
    });
    expect(sentTo(message.phone)).toBe(1);
  });

  it("waits while the claim may still be live: nothing sent, the job delayed to the lease's end", async () => {
    const claimedAt = ago(5_000);
    const message = await claimedMessage({ claimedAt });
    await retrySendJob(message.id);
    expect(await row(message.id)).toMatchObject({ status: "sending", twilioSid: null, interruptedSends: 0, sendingClaimedAt: claimedAt });
    expect(sentTo(message.phone)).toBe(0);
    const job = await telephonyQueue.getJob(`sms-${message.id}`);
    expect(await job?.getState()).toBe("delayed");
    expect((job?.timestamp ?? 0) + (job?.delay ?? 0)).toBeGreaterThanOrEqual(claimedAt.getTime() + SENDING_LEASE_MS - 1_000);
  });

  it("leaves a message Twilio already has (SID stored) to its status callbacks", async () => {
    const message = await claimedMessage({ claimedAt: ago(SENDING_LEASE_MS + 60_000), twilioSid: `SM${"a1".repeat(16)}` });
    await retrySendJob(message.id);
    expect(await row(message.id)).toMatchObject({ status: "sending", interruptedSends: 0 });
    expect(sentTo(message.phone)).toBe(0);
  });

  it("fails a message whose sends keep dying instead of retrying it forever", async () => {
    const message = await claimedMessage({ claimedAt: ago(SENDING_LEASE_MS + 60_000), interruptedSends: 3 });
    await retrySendJob(message.id);
    expect(await row(message.id)).toMatchObject({ status: "failed", failureReason: FAILURE_REASONS.sendInterrupted });
    expect(sentTo(message.phone)).toBe(0);
  });
});

describe("the stuck-send sweep", () => {
  it("settles each old claim once with one warn line, and leaves fresh claims alone", async () => {
    const { deps, settle, sandbox } = ctx();
    const { logger, lines } = capturedLogger();
    const old = ago(STUCK_AFTER_MS + 60_000);

    // Twilio took this one, but its callbacks never reached us.
    const acceptedPhone = nextPhone();
    const accepted = await deps.twilio.messages.create({ to: acceptedPhone, from: line, body: "accepted before the crash" });
    await settle();
    const rows = {
      neverSent: await claimedMessage({ claimedAt: old }),
      fresh: await claimedMessage({ claimedAt: ago(STUCK_AFTER_MS - 60_000) }),
      crashLoop: await claimedMessage({ claimedAt: old, interruptedSends: 3 }),
      acceptedUnheard: await claimedMessage({ claimedAt: old, twilioSid: accepted.sid }),
      unknownToTwilio: await claimedMessage({ claimedAt: old, twilioSid: `SM${"0".repeat(32)}` }),
    };
    const sweep = settleStuckSmsJob({ ...deps, logger });
    const context = sweepContext;
    await sweep.handle({}, context);
    await settle();

    expect(await row(rows.neverSent.id)).toMatchObject({ status: "delivered", interruptedSends: 1, twilioSid: expect.stringMatching(/^SM/) });
    expect(sentTo(rows.neverSent.phone)).toBe(1);
    expect(await row(rows.fresh.id)).toMatchObject({ status: "sending", interruptedSends: 0 });
    expect(sentTo(rows.fresh.phone)).toBe(0);
    expect(await row(rows.crashLoop.id)).toMatchObject({ status: "failed", failureReason: FAILURE_REASONS.sendInterrupted });
    expect(sentTo(rows.crashLoop.phone)).toBe(0);
    expect(await row(rows.acceptedUnheard.id)).toMatchObject({ status: "delivered", twilioSid: accepted.sid });
    expect(sentTo(acceptedPhone)).toBe(1); // not sent a second time
    expect(await row(rows.unknownToTwilio.id)).toMatchObject({ status: "failed", failureReason: FAILURE_REASONS.unknownAtTwilio });

    const settled = lines.filter((entry) => entry.msg === STUCK_SMS_LOG);
    expect(settled.map((entry) => [entry.level, entry.messageId, entry.outcome]).sort()).toEqual(
      [
        [40, rows.neverSent.id, "requeued"],
        [40, rows.crashLoop.id, "failed"],
        [40, rows.acceptedUnheard.id, "delivered at twilio"],
        [40, rows.unknownToTwilio.id, "failed"],
      ].sort(),
    );
    const logged = JSON.stringify(lines);
    for (const phone of [line, acceptedPhone, ...Object.values(rows).map((entry) => entry.phone)]) {
      expect(logged).not.toContain(phone.slice(2));
    }
    expect(sandbox.state.contractViolations).toEqual([]);

    // Settled rows are settled: a second sweep finds nothing to do.
    await sweep.handle({}, context);
    expect(lines.filter((entry) => entry.msg === STUCK_SMS_LOG)).toHaveLength(4);
  });
});

/**
 * An outbound message as the relay leaves it once its send job is in BullMQ:
 * `queued`, its outbox event published. No job is added here, which is what
 * Redis losing it looks like.
 */
async function queuedMessage(fields: {
  createdAt: Date;
  sendAfter?: Date;
  job?: "lost" | "unpublished" | "held";
  /** The job's id, when not queueSms's own (a resend of the stuck-send sweep). */
  jobIdFor?: (messageId: string) => string;
}) {
  const { prisma } = ctx().deps;
  const phone = nextPhone();
  const body = `Your answer is in (${phone.slice(-4)})`;
  const message = await prisma.message.create({
    data: { shopId, direction: "outbound", purpose: "test", from: line, to: phone, body, status: "queued", createdAt: fields.createdAt, sendAfter: fields.sendAfter ?? null },
  });
  const jobId = fields.jobIdFor?.(message.id) ?? `sms-${message.id}`;
  if (fields.job === "held") {
    // Alive in BullMQ, delayed: as the send job holds a row through quiet hours (sendAfter untouched).
    await prisma.$transaction((tx) =>
      enqueue(tx, { queue: QUEUES.telephony, name: SEND_SMS, payload: { messageId: message.id }, jobId, runAt: new Date(Date.now() + 3600_000) }),
    );
  } else if (fields.job === "unpublished") {
    // A topic the relay cannot route: it stays unpublished, as while the relay is down.
    await prisma.outboxEvent.create({ data: { topic: "stalled/send-sms", payload: { messageId: message.id }, jobId } });
  } else {
    await prisma.outboxEvent.create({
      data: { topic: `${QUEUES.telephony}/${SEND_SMS}`, payload: { messageId: message.id }, jobId, publishedAt: fields.createdAt },
    });
  }
  return { id: message.id, phone, body };
}

const requeueEvents = (messageId: string) =>
  ctx().deps.prisma.outboxEvent.count({ where: { jobId: { startsWith: `sms-${messageId}-requeue-` } } });

describe("the sweep for queued messages whose send job was lost", () => {
  const overdue = () => ago(SEND_OVERDUE_AFTER_MS + 60_000);

  it("re-queues an overdue row with no job, which is then sent once, and leaves rows whose time has not come or whose job waits", async () => {
    const { deps, settle, sandbox } = ctx();
    const { logger, lines } = capturedLogger();
    const rows = {
      lost: await queuedMessage({ createdAt: overdue() }),
      lostAfterThrottle: await queuedMessage({ createdAt: ago(SEND_OVERDUE_AFTER_MS + 120_000), sendAfter: overdue() }),
      laterSlot: await queuedMessage({ createdAt: overdue(), sendAfter: new Date(Date.now() + 30 * 60_000) }),
      recent: await queuedMessage({ createdAt: ago(SEND_OVERDUE_AFTER_MS - 60_000) }),
      optedOut: await queuedMessage({ createdAt: overdue() }),
    };
    await deps.prisma.optOut.create({ data: { phone: rows.optedOut.phone, platformNumber: line } });
    const held = await queuedMessage({ createdAt: overdue(), job: "held" });
    const heldResend = await queuedMessage({ createdAt: overdue(), job: "held", jobIdFor: (id) => resendJobId(id, 1) });
    // Stuck in sending long ago: the same run re-queues it as a resend, which the lost-job pass must see as its job.
    const stuck = await claimedMessage({ claimedAt: ago(STUCK_AFTER_MS + 60_000) });
    await deps.prisma.message.update({ where: { id: stuck.id }, data: { createdAt: overdue() } });
    await settle();
    expect(await (await telephonyQueue.getJob(`sms-${held.id}`))?.getState()).toBe("delayed");
    expect(await (await telephonyQueue.getJob(resendJobId(heldResend.id, 1)))?.getState()).toBe("delayed");

    // Two sweeps at once (a slow run overlapping the next), then one more after everything ran.
    const sweep = settleStuckSmsJob({ ...deps, logger });
    await Promise.all([sweep.handle({}, sweepContext), sweep.handle({}, sweepContext)]);
    await settle();
    await sweep.handle({}, sweepContext);
    await settle();

    for (const sent of [rows.lost, rows.lostAfterThrottle]) {
      expect(await row(sent.id)).toMatchObject({ status: "delivered", twilioSid: expect.stringMatching(/^SM/) });
      expect(ctx().inbox(sent.phone)).toEqual([sent.body]);
      expect(await requeueEvents(sent.id)).toBe(1);
    }
    expect(await row(rows.optedOut.id)).toMatchObject({ status: "failed", errorCode: UNSUBSCRIBED_RECIPIENT });
    expect(sentTo(rows.optedOut.phone)).toBe(0);
    expect(await row(stuck.id)).toMatchObject({ status: "delivered", interruptedSends: 1 });
    expect(sentTo(stuck.phone)).toBe(1);
    for (const untouched of [rows.laterSlot, rows.recent, held, heldResend]) {
      expect(await row(untouched.id)).toMatchObject({ status: "queued", twilioSid: null });
      expect(sentTo(untouched.phone)).toBe(0);
      expect(await requeueEvents(untouched.id)).toBe(0);
    }
    expect((await row(rows.laterSlot.id)).sendAfter?.getTime()).toBeGreaterThan(Date.now());

    const requeued = lines.filter((entry) => entry.msg === LOST_SEND_JOB_LOG);
    expect(requeued.map((entry) => [entry.level, entry.messageId, entry.outcome, entry.requeue]).sort()).toEqual(
      [
        [40, rows.lost.id, "requeued", 1],
        [40, rows.lostAfterThrottle.id, "requeued", 1],
        [40, rows.optedOut.id, "requeued", 1],
      ].sort(),
    );
    const logged = JSON.stringify(lines);
    for (const phone of [line, stuck.phone, held.phone, heldResend.phone, ...Object.values(rows).map((entry) => entry.phone)]) {
      expect(logged).not.toContain(phone.slice(2));
    }
    expect(sandbox.state.contractViolations).toEqual([]);
    // The hour-long holds must not outlive this test.
    await telephonyQueue.remove(`sms-${held.id}`);
    await telephonyQueue.remove(resendJobId(heldResend.id, 1));
    await deps.prisma.message.updateMany({ where: { id: { in: [held.id, heldResend.id] } }, data: { status: "failed" } });
  });

  it("leaves a row whose job the relay has not added yet", async () => {
    const { deps } = ctx();
    const { logger, lines } = capturedLogger();
    const waiting = await queuedMessage({ createdAt: overdue(), job: "unpublished" });
    try {
      await settleStuckSmsJob({ ...deps, logger }).handle({}, sweepContext);
      expect(await row(waiting.id)).toMatchObject({ status: "queued" });
      expect(await requeueEvents(waiting.id)).toBe(0);
      expect(lines.filter((entry) => entry.msg === LOST_SEND_JOB_LOG)).toEqual([]);
    } finally {
      await deps.prisma.outboxEvent.deleteMany({ where: { jobId: `sms-${waiting.id}` } });
      await deps.prisma.message.update({ where: { id: waiting.id }, data: { status: "failed" } });
    }
  });

  it("fails, rather than re-queues forever, a message whose re-queued jobs keep vanishing", async () => {
    const { deps, settle } = ctx();
    const { logger, lines } = capturedLogger();
    const vanishing = await queuedMessage({ createdAt: overdue() });
    for (let requeue = 1; requeue <= MAX_LOST_JOB_REQUEUES; requeue++) {
      await deps.prisma.outboxEvent.create({
        data: {
          topic: `${QUEUES.telephony}/${SEND_SMS}`,
          payload: { messageId: vanishing.id },
          jobId: requeueJobId(vanishing.id, requeue),
          publishedAt: overdue(),
        },
      });
    }
    await settleStuckSmsJob({ ...deps, logger }).handle({}, sweepContext);
    await settle();
    expect(await row(vanishing.id)).toMatchObject({ status: "failed", failureReason: FAILURE_REASONS.sendJobLost });
    expect(sentTo(vanishing.phone)).toBe(0);
    expect(lines.filter((entry) => entry.msg === LOST_SEND_JOB_LOG).map((entry) => [entry.messageId, entry.outcome])).toEqual([
      [vanishing.id, "failed"],
    ]);
  });
});
