/**
 * The sandbox's memory across restarts: one JSON file of its own (never the
 * product's database), read at start and rewritten after changes. A write
 * goes to a temporary file, flushed to disk, that is then renamed over the old
 * one, so a crash mid-write leaves the previous state, never half a file.
 * Changes made in the same tick, or while a write is under way, are saved
 * together.
 */
import { z } from "zod";
import { readSnapshotFile, StateFileWriter as SharedStateFileWriter } from "../state-file-writer.js";
import type { SandboxSnapshot } from "./state.js";

const date = z.iso.datetime().transform((value) => new Date(value));
const method = z.enum(["GET", "POST"]);

const snapshotSchema = z.object({
  version: z.literal(1),
  accountSid: z.string(),
  numbers: z.array(
    z.object({
      sid: z.string(),
      phoneNumber: z.string(),
      smsUrl: z.string().nullable(),
      smsMethod: method,
      voiceUrl: z.string().nullable(),
      voiceMethod: method,
      statusCallback: z.string().nullable(),
      dateCreated: date,
    }),
  ),
  messages: z.array(
    z.object({
      sid: z.string(),
      from: z.string(),
      to: z.string(),
      body: z.string(),
      status: z.string(),
      direction: z.enum(["inbound", "outbound-api", "outbound-reply"]),
      errorCode: z.number().int().nullable(),
      statusCallback: z.string().nullable(),
      dateCreated: date,
      dateUpdated: date,
      dateSent: date.nullable(),
    }),
  ),
  blocked: z.array(z.string()),
  phones: z.array(
    z.object({
      number: z.string(),
      messages: z.array(
        z.object({
          sid: z.string(),
          direction: z.enum(["received", "sent"]),
          peer: z.string(),
          body: z.string(),
          at: date,
          status: z.string(),
        }),
      ),
      voice: z.object({
        answer: z.enum(["answer", "busy", "no-answer", "fail"]),
        inputs: z.array(z.union([z.object({ digits: z.string() }), z.object({ speech: z.string(), confidence: z.number().optional() })])).optional(),
        ringSeconds: z.number().optional(),
      }),
      failWith: z.number().int().nullable(),
    }),
  ),
});

/** Reads a state file; undefined when there is none yet. A file that cannot be read back is an error naming it. */
export function readStateFile(file: string): SandboxSnapshot | undefined {
  // zod types an absent optional key as `?: T | undefined`; it leaves absent keys absent, as the state's types want.
  return readSnapshotFile(file, snapshotSchema, "sandbox") as SandboxSnapshot | undefined;
}

/** The sandbox's state file: the shared writer (../state-file-writer.ts) over this sandbox's snapshot. */
export class StateFileWriter extends SharedStateFileWriter<SandboxSnapshot> {}
