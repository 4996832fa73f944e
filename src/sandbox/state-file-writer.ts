/**
 * How both sandboxes keep their memory on disk, as the real providers keep
 * theirs: the whole state as one JSON file, rewritten after changes (the
 * changes of one tick share a write), atomically (a temporary file, synced,
 * then renamed), so a crash or a power cut leaves the old state or the new
 * one, never half of either.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";

/**
 * Reads a state file written by StateFileWriter and checks it against the
 * sandbox's schema; undefined when there is none yet. A file that cannot be
 * read back is an error naming it (`label` says whose it is).
 */
export function readSnapshotFile<Schema extends z.ZodType<{ version: number }>>(
  file: string,
  schema: Schema,
  label: string,
): Omit<z.output<Schema>, "version"> | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let parsed: z.output<Schema>;
  try {
    parsed = schema.parse(JSON.parse(text));
  } catch (error) {
    const reason = error instanceof z.ZodError ? error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).slice(0, 3).join("; ") : (error as Error).message;
    throw new Error(`${label} state file ${file} cannot be read (${reason}); move it away to start afresh`, { cause: error });
  }
  const { version: _version, ...snapshot } = parsed;
  return snapshot;
}

export class StateFileWriter<Snapshot extends object> {
  private writing: Promise<void> | undefined;
  private dirty = false;

  constructor(
    private readonly file: string,
    private readonly snapshot: () => Snapshot,
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
