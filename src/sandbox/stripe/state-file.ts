/**
 * The Stripe sandbox's memory across restarts: one JSON file of its own
 * (never the product's database), read at start and rewritten after changes:
 * the platform's balance, connected accounts and their links, transfers and
 * reversals, payouts, events and finished idempotency keys. `npm run dev`
 * restarts on every saved file, and a retried transfer after a restart must
 * still replay. A write goes to a temporary file, flushed to disk, then
 * renamed over the old one, so a crash mid-write leaves the previous state,
 * never half a file. Changes made in the same tick, or while a write is under
 * way, are saved together. The secret key is not written.
 */
import { z } from "zod";
import { readSnapshotFile, StateFileWriter as SharedStateFileWriter } from "../state-file-writer.js";
import type { StripeSnapshot } from "./state.js";

const amounts = z.record(z.string().regex(/^[a-z]{3}$/), z.number().int());
const strings = z.record(z.string(), z.string());
const unix = z.number().int();

const reversal = z.object({
  id: z.string(),
  amount: z.number().int().positive(),
  created: unix,
  currency: z.string(),
  metadata: strings,
  description: z.string().nullable(),
  transfer: z.string(),
  balanceTransaction: z.string(),
  destinationPaymentRefund: z.string(),
});

const snapshotSchema = z.object({
  version: z.literal(1),
  available: amounts,
  pending: amounts,
  accounts: z.array(
    z.object({
      id: z.string(),
      created: unix,
      type: z.enum(["standard", "express", "custom", "none"]),
      dashboard: z.enum(["express", "full", "none"]),
      feesPayer: z.string(),
      lossesPayments: z.string(),
      requirementCollection: z.enum(["stripe", "application"]),
      country: z.string(),
      email: z.string().nullable(),
      metadata: strings,
      transfersRequested: z.boolean(),
      onboarded: z.boolean(),
      balance: amounts,
    }),
  ),
  accountLinks: z.array(
    z.object({
      id: z.string(),
      account: z.string(),
      type: z.enum(["account_onboarding", "account_update"]),
      refreshUrl: z.string(),
      returnUrl: z.string(),
      created: unix,
      expiresAt: unix,
      visited: z.boolean(),
      finished: z.boolean(),
    }),
  ),
  transfers: z.array(
    z.object({
      id: z.string(),
      amount: z.number().int().positive(),
      amountReversed: z.number().int().nonnegative(),
      created: unix,
      currency: z.string(),
      description: z.string().nullable(),
      destination: z.string(),
      destinationPayment: z.string(),
      balanceTransaction: z.string(),
      metadata: strings,
      transferGroup: z.string().nullable(),
      reversals: z.array(reversal),
    }),
  ),
  payouts: z.array(
    z.object({
      id: z.string(),
      account: z.string(),
      amount: z.number().int().positive(),
      currency: z.string(),
      created: unix,
      arrivalDate: unix,
      description: z.string().nullable(),
      metadata: strings,
      method: z.enum(["standard", "instant"]),
      statementDescriptor: z.string().nullable(),
      automatic: z.boolean(),
      status: z.enum(["pending", "in_transit", "paid", "failed", "canceled"]),
      failureCode: z.string().nullable(),
      failureMessage: z.string().nullable(),
      balanceTransaction: z.string(),
      destination: z.string(),
    }),
  ),
  deliveries: z.array(
    z.object({
      // The event is kept as Stripe's JSON, whatever its object.
      event: z.looseObject({ id: z.string(), object: z.literal("event"), type: z.string(), created: unix }),
      attempts: z.array(z.object({ at: unix, status: z.number().int().nullable(), error: z.string().optional() })),
    }),
  ),
  idempotency: z.array(
    z.object({
      id: z.string(),
      endpoint: z.string(),
      params: z.string(),
      createdAt: z.number(),
      response: z.object({ status: z.number().int(), body: z.unknown() }),
    }),
  ),
});

/** Reads a state file; undefined when there is none yet. A file that cannot be read back is an error naming it. */
export function readStripeStateFile(file: string): StripeSnapshot | undefined {
  // zod types absent optional keys as `?: T | undefined` and the event as a loose object; the shapes are the state's.
  return readSnapshotFile(file, snapshotSchema, "Stripe sandbox") as unknown as StripeSnapshot | undefined;
}

/** The sandbox's state file: the shared writer (../state-file-writer.ts) over this sandbox's snapshot. */
export class StripeStateFileWriter extends SharedStateFileWriter<StripeSnapshot> {}
