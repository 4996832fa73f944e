import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MessageDelivery } from "./messaging.js";
import { readStateFile, StateFileWriter } from "./state-file.js";
import { MAX_PHONE_MESSAGES, SandboxState } from "./state.js";

const ACCOUNT = `AC${"1".repeat(32)}`;
const clock = { now: () => new Date("2024-05-01T10:00:00Z") };
const urls = { sms: "http://app.test/twilio/sms", voice: "http://app.test/twilio/voice", callStatus: "http://app.test/twilio/status/call" };

function tempFile(): string {
  return path.join(mkdtempSync(path.join(tmpdir(), "sandbox-state-")), "nested", "twilio-state.json");
}

function stateWithFile(file: string): { state: SandboxState; writer: StateFileWriter } {
  const state = new SandboxState(ACCOUNT, "token-0123456789abcdef", clock);
  const saved = readStateFile(file);
  if (saved) state.restore(saved);
  const writer = new StateFileWriter(file, () => state.snapshot(), (error) => {
    throw error;
  });
  state.onChange = () => writer.requestSave();
  return { state, writer };
}

describe("the sandbox's state file", () => {
  it("is absent until something changes, then holds numbers, messages, opt-outs and phones with their dates", async () => {
    const file = tempFile();
    const { state, writer } = stateWithFile(file);
    expect(readStateFile(file)).toBeUndefined();

    state.own("+14155550100", urls, `PN${"a".repeat(32)}`);
    state.addMessage({
      sid: `SM${"b".repeat(32)}`,
      from: "+14155550100",
      to: "+12125550142",
      body: "hello",
      status: "delivered",
      direction: "outbound-api",
      errorCode: null,
      statusCallback: null,
      dateCreated: clock.now(),
      dateUpdated: clock.now(),
      dateSent: clock.now(),
    });
    state.blocked.add("+12125550142|+14155550100");
    state.phone("+12125550142").failWith = 30003;
    state.changed();
    await writer.flush();

    const again = stateWithFile(file).state;
    expect(again.numbers.get("+14155550100")).toEqual(state.numbers.get("+14155550100"));
    expect(again.numbers.get("+14155550100")?.dateCreated).toBeInstanceOf(Date);
    expect([...again.messages.values()]).toEqual([...state.messages.values()]);
    expect(again.blocked.has("+12125550142|+14155550100")).toBe(true);
    expect(again.phones.get("+12125550142")?.failWith).toBe(30003);
  });

  it("saves changes made together and leaves no temporary file behind", async () => {
    const file = tempFile();
    const { state, writer } = stateWithFile(file);
    for (let line = 100; line < 110; line++) state.own(`+14155550${line}`, urls, `PN${String(line).repeat(11).slice(0, 32)}`);
    await writer.flush();
    expect(readStateFile(file)?.numbers).toHaveLength(10);
    expect(readdirSync(path.dirname(file))).toEqual(["twilio-state.json"]);
  });

  it("replaces the file whole (a new file renamed over it), so a crash mid-write leaves the previous state", async () => {
    const file = tempFile();
    const { state, writer } = stateWithFile(file);
    state.own("+14155550100", urls, `PN${"a".repeat(32)}`);
    await writer.flush();
    const before = statSync(file).ino;
    state.own("+14155550101", urls, `PN${"b".repeat(32)}`);
    await writer.flush();
    // Writing in place would keep the inode; a rename brings a new one.
    expect(statSync(file).ino).not.toBe(before);
    expect(readStateFile(file)?.numbers).toHaveLength(2);
  });

  it("leaves alone a temporary file of another sandbox process with the same pid (every container's is 1)", async () => {
    const file = tempFile();
    const { state, writer } = stateWithFile(file);
    const theirs = `${file}.${process.pid}.tmp`;
    writeFileSync(theirs, "another process, half-way through its write");
    state.own("+14155550100", urls, `PN${"a".repeat(32)}`);
    await writer.flush();
    expect(readFileSync(theirs, "utf8")).toBe("another process, half-way through its write");
    expect(readStateFile(file)?.numbers).toHaveLength(1);
    expect(readdirSync(path.dirname(file)).sort()).toEqual([path.basename(theirs), "twilio-state.json"].sort());
  });

  it("keeps only each phone's newest messages, in memory and in the file", async () => {
    const file = tempFile();
    const { state, writer } = stateWithFile(file);
    const delivery = new MessageDelivery(state, () => Promise.reject(new Error("no webhook expected: nobody owns the number")));
    const texts = MAX_PHONE_MESSAGES + 20;
    for (let n = 0; n < texts; n++) await delivery.receive("+12125550142", "+14155550199", `text ${n}`);
    await writer.flush();

    const inbox = state.phones.get("+12125550142")?.messages ?? [];
    expect(inbox).toHaveLength(MAX_PHONE_MESSAGES);
    expect(inbox[0]?.body).toBe(`text ${texts - MAX_PHONE_MESSAGES}`);
    expect(inbox.at(-1)?.body).toBe(`text ${texts - 1}`);
    const saved = readStateFile(file)?.phones.find((phone) => phone.number === "+12125550142");
    expect(saved?.messages.map((message) => message.body)).toEqual(inbox.map((message) => message.body));
  });

  it("trims a longer inbox saved by an earlier version when it reads the file back", () => {
    const file = tempFile();
    stateWithFile(file); // creates the directory
    const messages = Array.from({ length: MAX_PHONE_MESSAGES + 5 }, (_, n) => ({
      sid: `SM${String(n).padStart(32, "0")}`,
      direction: "received",
      peer: "+14155550100",
      body: `text ${n}`,
      at: clock.now().toISOString(),
      status: "delivered",
    }));
    const phone = { number: "+12125550142", messages, voice: { answer: "answer" }, failWith: null };
    writeFileSync(file, JSON.stringify({ version: 1, accountSid: ACCOUNT, numbers: [], messages: [], blocked: [], phones: [phone] }));

    const inbox = stateWithFile(file).state.phones.get("+12125550142")?.messages ?? [];
    expect(inbox).toHaveLength(MAX_PHONE_MESSAGES);
    expect(inbox[0]?.body).toBe("text 5");
  });

  it("refuses a file it cannot read back, naming it", () => {
    const file = tempFile();
    stateWithFile(file); // creates the directory
    writeFileSync(file, '{"version":1,"accountSid":"AC1","numbers":[{"sid":1}]}');
    expect(() => readStateFile(file)).toThrow(new RegExp(`sandbox state file ${file.replaceAll("/", "\\/")} cannot be read \\(numbers\\.0\\.sid`));
    writeFileSync(file, "{not json");
    expect(() => readStateFile(file)).toThrow(/cannot be read/);
  });

  it("belongs to one account: another account's state is refused", async () => {
    const file = tempFile();
    const { state, writer } = stateWithFile(file);
    state.own("+14155550100", urls, `PN${"a".repeat(32)}`);
    await writer.flush();
    const other = new SandboxState(`AC${"2".repeat(32)}`, "token-0123456789abcdef", clock);
    const saved = readStateFile(file);
    expect(saved).toBeDefined();
    expect(() => other.restore(saved!)).toThrow(/belongs to account AC1{32}, not AC2{32}/);
    expect(existsSync(file)).toBe(true);
    expect(JSON.parse(readFileSync(file, "utf8")).version).toBe(1);
  });
});
