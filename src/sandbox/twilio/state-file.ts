/**
 * The sandbox's memory across restarts: one JSON file of its own (never the
 * product's database), read at start and rewritten after changes. A write
 * goes to a temporary file, flushed to disk, that is then renamed over the old
 * one, so a crash mid-write leaves the previous state, never half a file.
 * Changes made in the same tick, or while a write is under way, are saved
 * together.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
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
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let parsed: z.output<typeof snapshotSchema>;
  try {
    parsed = snapshotSchema.parse(JSON.parse(text));
  } catch (error) {
    const reason = error instanceof z.ZodError ? error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).slice(0, 3).join("; ") : (error as Error).message;
    throw new Error(`sandbox state file ${file} cannot be read (${reason}); move it away to start afresh`, { cause: error });
  }
  const { version: _version, ...snapshot } = parsed;
  // zod types an absent optional key as `?: T | undefined`; it leaves absent keys absent, as the state's types want.
  return snapshot as SandboxSnapshot;
}

export class StateFileWriter {
  private writing: Promise<void> | undefined;
  private dirty = false;

  constructor(
    private readonly file: string,
    private readonly snapshot: () => SandboxSnapshot,
    private readonly onError: (error: Error) => void,
  ) {
    mkdirSync(path.dirname(file), { recursive: true });
  }

  /** Schedules a save; cheap to call after every change. */
  requestSave(): void {
    this.dirty = true;
    this.writing ??= this.drain().finally(() => {
      this.writing = undefined;
    });
  }

  /** Resolves once everything changed so far is on disk. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    while (this.dirty) {
      // Let the rest of this tick's changes land, so they share one write.
      await new Promise((resolve) => setImmediate(resolve));
      this.dirty = false;
      try {
        await this.write(JSON.stringify({ version: 1, ...this.snapshot() }));
      } catch (error) {
        this.onError(error as Error);
      }
    }
  }

  private async write(text: string): Promise<void> {
    // Random, not the pid: every container's process is pid 1, and the sandbox
    // inside `npm run dev` and a standalone one default to the same file.
    const temporary = `${this.file}.${randomBytes(8).toString("hex")}.tmp`;
    try {
      const handle = await open(temporary, "wx");
      try {
        await handle.writeFile(text);
        // On disk before the rename: otherwise a power cut can leave the new
        // name pointing at an empty file.
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, this.file);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }
}
