import { describe, expect, it } from "vitest";
import { parseTwiml, type TwimlNode } from "../../sandbox/twilio/voice/twiml.js";
import {
  callbackEstimateMinutes,
  ivrCopy,
  ivrUrls,
  MIN_SPEECH_CONFIDENCE,
  openQuestionTwiml,
  pickSpokenProduct,
  productHints,
  productMenuTwiml,
  questionTwiml,
  recordTwiml,
  redirectTo,
  renderStep,
  sayAndHangUp,
  usableSpeech,
  voiceMessageBody,
  type IvrStep,
} from "./ivr-script.js";

const BASE = "https://api.expertline.example";
const urls = ivrUrls(BASE);
const PRODUCT_ID = "0190c0de-0000-7000-8000-000000000001";

const G30 = { id: "g30", name: "Grainfather G30", aliases: ["G30", "grainfather"] };
const KETTLE = { id: "kettle", name: "10 gallon brew kettle", aliases: ["kettle"] };
const FOUNDRY = { id: "foundry", name: "Anvil Foundry", aliases: [] };
const CHILLER = { id: "chiller", name: "Counterflow chiller", aliases: ["CF chiller"] };
const ALL = [G30, KETTLE, FOUNDRY, CHILLER];
const LISTED = [G30, KETTLE, FOUNDRY];

/** The document as the sandbox's engine reads it (refusing what Twilio would refuse). */
function verbs(xml: string): TwimlNode[] {
  const parsed = parseTwiml(xml);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.verbs;
}
const shape = (nodes: readonly TwimlNode[]): unknown[] =>
  nodes.map((node) => (node.children.length > 0 ? { [node.name]: shape(node.children) } : node.name));

describe("ivrUrls", () => {
  it("are absolute, from the public base, carrying the step's state in the query", () => {
    expect(urls.entry).toBe(`${BASE}/twilio/voice`);
    expect(urls.product(2)).toBe(`${BASE}/twilio/voice/product?attempt=2`);
    expect(urls.question(PRODUCT_ID)).toBe(`${BASE}/twilio/voice/question?product=${PRODUCT_ID}`);
    expect(urls.question(null)).toBe(`${BASE}/twilio/voice/question`);
    expect(urls.recording(PRODUCT_ID)).toBe(`${BASE}/twilio/voice/recording?product=${PRODUCT_ID}`);
    expect(urls.recording(null)).toBe(`${BASE}/twilio/voice/recording`);
    expect(urls.connect).toBe(`${BASE}/twilio/voice/connect`);
    expect(urls.session("s-1")).toBe(`${BASE}/twilio/voice/sessions/s-1/connect`);
  });
});

describe("pickSpokenProduct", () => {
  it.each([
    [{ digits: "1" }, "g30"],
    [{ digits: "3" }, "foundry"],
    [{ digits: " 2 " }, "kettle"],
    [{ digits: "4" }, null], // the chiller is not on the menu: only its name picks it
    [{ digits: "0" }, null],
    [{ digits: "12" }, null],
    [{ digits: "*" }, null],
    [{ digits: "x2" }, null],
    [{ digits: "2x" }, null],
    [{ speech: "The Grainfather G30." }, "g30"],
    [{ speech: "my kettle" }, "kettle"],
    [{ speech: "Counterflow chiller" }, "chiller"],
    [{ speech: "the CF chiller please" }, "chiller"],
    [{ speech: "two" }, "kettle"],
    [{ speech: "Number three." }, "foundry"],
    [{ speech: "option 1" }, "g30"],
    [{ speech: "four" }, null],
    [{ speech: "a2" }, null],
    [{ speech: "2a" }, null],
    [{ speech: "two or three" }, null],
    [{ speech: "g 30" }, "g30"],
    [{ speech: "grain father G 30" }, "g30"],
    [{ speech: "the g30 or the kettle" }, null],
    [{ speech: "I don't know" }, null],
    [{ speech: "" }, null],
    [{}, null],
  ])("%j picks %s", (input, expected) => {
    expect(pickSpokenProduct(input, LISTED, ALL)).toBe(expected);
  });

  it("a name inside a longer name is the longer product, as in texts", () => {
    const nested = [
      { id: "plain", name: "Grainfather", aliases: [] },
      { id: "g30", name: "Grainfather G30", aliases: [] },
    ];
    expect(pickSpokenProduct({ speech: "my grainfather g30 leaks" }, nested, nested)).toBe("g30");
    expect(pickSpokenProduct({ speech: "my grainfather leaks" }, nested, nested)).toBe("plain");
  });

  it("a name of several words is found spelled apart too", () => {
    expect(pickSpokenProduct({ speech: "the pro 3 0" }, [], [{ id: "a", name: "Pro 30", aliases: [] }])).toBe("a");
  });

  it.each(["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])("the menu number %s in words", (word) => {
    const nine = Array.from({ length: 9 }, (_, index) => ({ id: `p${index + 1}`, name: `Model ${String.fromCharCode(65 + index)}`, aliases: [] }));
    const number = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"].indexOf(word) + 1;
    expect(pickSpokenProduct({ speech: `number ${word}` }, nine, nine)).toBe(`p${number}`);
  });

  it("a key wins over speech in the same request", () => {
    expect(pickSpokenProduct({ digits: "2", speech: "Grainfather" }, LISTED, ALL)).toBe("kettle");
  });

  it("spelled-apart matching ignores labels under 3 characters and needs one product", () => {
    const short = [{ id: "a", name: "A1", aliases: [] }];
    expect(pickSpokenProduct({ speech: "a 1" }, [], short)).toBeNull();
    const twins = [
      { id: "a", name: "Pro 30", aliases: [] },
      { id: "b", name: "Pro3 0", aliases: [] },
    ];
    expect(pickSpokenProduct({ speech: "pro 3 0 please" }, [], twins)).toBeNull();
    expect(pickSpokenProduct({ speech: "pr o30" }, [], [{ id: "a", name: "Pro30", aliases: [] }])).toBe("a");
  });
});

describe("usableSpeech", () => {
  it.each([
    [undefined, undefined, null],
    ["", 0.9, null],
    ["   ", 0.9, null],
    ["...", 0.9, null],
    ["Should I add hot acid water at mash-out?", 0.9, "Should I add hot acid water at mash-out?"],
    ["  two\n spaces ", undefined, "two spaces"],
    ["mumble", MIN_SPEECH_CONFIDENCE - 0.01, null],
    ["clear enough", MIN_SPEECH_CONFIDENCE, "clear enough"],
    ["no score given", undefined, "no score given"],
  ])("%j at confidence %s is %j", (speech, confidence, expected) => {
    expect(usableSpeech(speech, confidence)).toBe(expected);
  });
});

describe("small facts", () => {
  it.each([
    [null, null],
    [{ offerTimeoutSeconds: 120 }, 4],
    [{ offerTimeoutSeconds: 30 }, 1],
    [{ offerTimeoutSeconds: 600 }, 20],
  ])("callbackEstimateMinutes(%j) is %s: two offer windows", (pool, minutes) => {
    expect(callbackEstimateMinutes(pool)).toBe(minutes);
  });

  it("a recorded question's body says what it is", () => {
    expect(voiceMessageBody(42)).toBe("Voice message (42 s)");
  });

  it("speech hints list names and aliases once, without commas of their own", () => {
    expect(productHints([G30, { id: "x", name: "Mash tun, 10 gal", aliases: ["G30"] }])).toBe("Grainfather G30, G30, grainfather, Mash tun 10 gal");
    expect(productHints([])).toBe("");
    expect(productHints([{ id: "a", name: " ", aliases: ["Kettle"] }])).toBe("Kettle");
    const many = Array.from({ length: 80 }, (_, index) => ({ id: String(index), name: `P${index}`, aliases: [] }));
    expect(productHints(many).split(", ")).toHaveLength(50);
  });
});

describe("what the line says", () => {
  it.each([
    ["thanks, with texts", ivrCopy.thanks({ minutes: 4, texts: true }), "Thanks. An expert will call you back within about 4 minutes; we'll text you updates. Goodbye."],
    ["thanks, one minute", ivrCopy.thanks({ minutes: 1, texts: true }), "Thanks. An expert will call you back within about 1 minute; we'll text you updates. Goodbye."],
    ["thanks, opted out, no pool", ivrCopy.thanks({ minutes: null, texts: false }), "Thanks. An expert will call you back as soon as one is free. Goodbye."],
    [
      "product menu",
      ivrCopy.productMenu(["Grainfather G30", "The Big Kettle"]),
      "Which product is your question about? For the Grainfather G30, press 1. For The Big Kettle, press 2. Or say the product's name.",
    ],
    ["ask, with a product", ivrCopy.askQuestion("Grainfather G30"), "Please ask your question about the Grainfather G30 in a few sentences."],
    ["ask, without", ivrCopy.askQuestion(null), "Please ask your question in a few sentences."],
    [
      "open question",
      ivrCopy.openQuestion({ shopName: "Malt House", headline: "Dan accepted and will call you", next: "Pick up when your phone rings." }),
      "You have a question open with Malt House. Dan accepted and will call you. Pick up when your phone rings.",
    ],
    ["connect", ivrCopy.connectOffer("Dan"), "Press 1 to be connected to Dan."],
    ["not in service", ivrCopy.notInService, "Sorry, this number is not in service. Goodbye."],
    ["line closed", ivrCopy.lineClosed("Malt House"), "Sorry, the Malt House expert line is not taking calls right now. Goodbye."],
    ["withheld", ivrCopy.withheld, "Sorry, we can only take a question from a number we can call back. Please call again without hiding your number. Goodbye."],
    ["refused number", ivrCopy.refusedNumber("Malt House"), "Sorry, the Malt House expert line cannot take questions from this number. Goodbye."],
    [
      "refused for now",
      ivrCopy.refusedBusy("Malt House"),
      "Sorry, the Malt House expert line cannot take more questions from this number right now. Please try again later. Goodbye.",
    ],
    ["greeting", ivrCopy.greeting("Malt House"), "Thanks for calling the Malt House expert line."],
    ["unclear", ivrCopy.productUnclear, "Sorry, I didn't get that."],
    ["skipped", ivrCopy.productSkipped, "No problem, we'll find the right expert for you."],
    ["record instead", ivrCopy.recordInstead, "Sorry, I didn't catch that. Please leave your question after the beep, then press the pound key or hang up."],
    ["no recording", ivrCopy.noRecording, "We didn't get a message, so nothing was sent. Call again any time. Goodbye."],
    ["session over", ivrCopy.sessionOver, "That conversation has ended. Goodbye."],
    ["added", ivrCopy.addedToOpenQuestion, "Thanks, we've added that to the question you already have open with us. Goodbye."],
    ["goodbye", ivrCopy.goodbye, "Goodbye."],
    ["a name with 'the' inside", ivrCopy.askQuestion("Breathe easy kit"), "Please ask your question about the Breathe easy kit in a few sentences."],
    [
      "expert, available without offers",
      ivrCopy.expertStatus({ name: "Dan", shopName: "Malt House", status: "active", paused: false, openOffers: 0 }),
      "Hi Dan! You're available: questions come to you by text. Text OFF to pause. Goodbye.",
    ],
    [
      "expert, available with offers",
      ivrCopy.expertStatus({ name: "Dan Brewer", shopName: "Malt House", status: "active", paused: false, openOffers: 2 }),
      "Hi Dan! You're available: questions come to you by text. Text OFF to pause. You have 2 open offers by text. Goodbye.",
    ],
    [
      "expert, paused with one offer",
      ivrCopy.expertStatus({ name: "Dan", shopName: "Malt House", status: "active", paused: true, openOffers: 1 }),
      "Hi Dan! You're paused: no questions come to you until you text ON to this number. You have 1 open offer by text. Goodbye.",
    ],
    [
      "expert, invited",
      ivrCopy.expertStatus({ name: "", shopName: "Malt House", status: "invited", paused: false, openOffers: 0 }),
      "Hi there! You haven't joined the Malt House expert line yet. Text YES to this number to join. Goodbye.",
    ],
    [
      "expert, suspended",
      ivrCopy.expertStatus({ name: "Ann", shopName: "Malt House", status: "suspended", paused: false, openOffers: 3 }),
      "Hi Ann! Your Malt House expert account is paused by the shop. Goodbye.",
    ],
  ])("%s", (_, said, expected) => {
    expect(said).toBe(expected);
  });

  it("an expert's name is said by its first name, with anything like a phone number masked", () => {
    expect(ivrCopy.expertStatus({ name: "+14155550123 Dan", shopName: "S", status: "suspended", paused: false, openOffers: 0 })).not.toMatch(/\d{4}/);
  });
});

describe("TwiML", () => {
  it("hang-up and redirect documents", () => {
    expect(sayAndHangUp("Bye & thanks.")).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Say>Bye &amp; thanks.</Say><Hangup/></Response>');
    expect(redirectTo(urls.session("s-1"))).toBe(
      `<?xml version="1.0" encoding="UTF-8"?><Response><Redirect method="POST">${BASE}/twilio/voice/sessions/s-1/connect</Redirect></Response>`,
    );
  });

  it("the product menu takes a key or speech, with hints, and comes back to the same attempt on silence", () => {
    const xml = productMenuTwiml({ urls, attempt: 1, listed: LISTED, all: ALL, preface: ["Thanks for calling the Malt House expert line."] });
    expect(shape(verbs(xml))).toEqual(["Say", { Gather: ["Say"] }, "Redirect"]);
    const [greeting, gather, redirect] = verbs(xml);
    expect(greeting?.text).toBe("Thanks for calling the Malt House expert line.");
    expect(gather?.attrs).toEqual({
      input: "speech dtmf",
      numDigits: "1",
      timeout: "6",
      speechTimeout: "auto",
      hints: "Grainfather G30, G30, grainfather, 10 gallon brew kettle, kettle, Anvil Foundry, Counterflow chiller, CF chiller",
      action: `${BASE}/twilio/voice/product?attempt=1`,
      method: "POST",
    });
    expect(gather?.children[0]?.text).toBe(
      "Which product is your question about? For the Grainfather G30, press 1. For the 10 gallon brew kettle, press 2. For the Anvil Foundry, press 3. Or say the product's name.",
    );
    expect(redirect).toMatchObject({ attrs: { method: "POST" }, text: `${BASE}/twilio/voice/product?attempt=1` });
  });

  it("a shop whose products have no names to hint sends no hints attribute", () => {
    const blank = [
      { id: "a", name: " ", aliases: [] },
      { id: "b", name: ",", aliases: [] },
    ];
    const [gather] = verbs(productMenuTwiml({ urls, attempt: 2, listed: blank, all: blank, preface: [] }));
    expect(gather?.attrs.hints).toBeUndefined();
    expect(gather?.attrs.action).toBe(`${BASE}/twilio/voice/product?attempt=2`);
  });

  it("the question: speech first, the recording when nothing was said, then goodbye if that is silent too", () => {
    const xml = questionTwiml({ urls, product: { id: PRODUCT_ID, name: "Grainfather G30" }, preface: ["No problem."] });
    expect(shape(verbs(xml))).toEqual(["Say", { Gather: ["Say"] }, "Say", "Record", "Say", "Hangup"]);
    const [, gather, fallback, record, silent] = verbs(xml);
    expect(gather?.attrs).toEqual({ input: "speech", speechTimeout: "auto", timeout: "6", action: `${BASE}/twilio/voice/question?product=${PRODUCT_ID}`, method: "POST" });
    expect(gather?.children[0]?.text).toBe("Please ask your question about the Grainfather G30 in a few sentences.");
    expect(fallback?.text).toBe(ivrCopy.recordInstead);
    expect(record?.attrs).toEqual({
      action: `${BASE}/twilio/voice/recording?product=${PRODUCT_ID}`,
      method: "POST",
      maxLength: "120",
      playBeep: "true",
      timeout: "5",
      finishOnKey: "#",
      trim: "trim-silence",
    });
    expect(silent?.text).toBe(ivrCopy.noRecording);
  });

  it("straight to the recording after an unusable transcript", () => {
    const xml = recordTwiml({ urls, productId: null });
    expect(shape(verbs(xml))).toEqual(["Say", "Record", "Say", "Hangup"]);
    expect(verbs(xml)[1]?.attrs.action).toBe(`${BASE}/twilio/voice/recording`);
  });

  it("an open question's status, with press 1 only while a session is open", () => {
    const status = { urls, shopName: "Malt House", headline: "In conversation with Dan", next: "Reply to Dan's texts." };
    const withSession = openQuestionTwiml({ ...status, connectTo: "Dan" });
    expect(shape(verbs(withSession))).toEqual(["Say", { Gather: ["Say"] }, "Say", "Hangup"]);
    const [said, gather] = verbs(withSession);
    expect(said?.text).toBe("You have a question open with Malt House. In conversation with Dan. Reply to Dan's texts.");
    expect(gather?.attrs).toEqual({ input: "dtmf", numDigits: "1", timeout: "6", action: `${BASE}/twilio/voice/connect`, method: "POST" });
    expect(gather?.children[0]?.text).toBe("Press 1 to be connected to Dan.");
    const without = openQuestionTwiml({ ...status, connectTo: null });
    expect(shape(verbs(without))).toEqual(["Say", "Say", "Hangup"]);
  });

  it.each<[IvrStep, string]>([
    [{ kind: "hang-up", text: "Goodbye." }, sayAndHangUp("Goodbye.")],
    [{ kind: "session", sessionId: "s-9" }, redirectTo(`${BASE}/twilio/voice/sessions/s-9/connect`)],
    [{ kind: "open-question", shopName: "S", headline: "H", next: "N", connectTo: "Dan" }, openQuestionTwiml({ urls, shopName: "S", headline: "H", next: "N", connectTo: "Dan" })],
    [{ kind: "ask-product", attempt: 2, preface: ["Hi."], listed: LISTED, all: ALL }, productMenuTwiml({ urls, attempt: 2, preface: ["Hi."], listed: LISTED, all: ALL })],
    [{ kind: "ask-question", preface: ["Hi."], product: null }, questionTwiml({ urls, preface: ["Hi."], product: null })],
    [{ kind: "record", productId: PRODUCT_ID }, recordTwiml({ urls, productId: PRODUCT_ID })],
  ])("renderStep(%j) is its builder's document, which the engine accepts, every URL absolute", (step, expected) => {
    const xml = renderStep(step, urls);
    expect(xml).toBe(expected);
    const nodes = verbs(xml);
    expect(nodes.length).toBeGreaterThan(0);
    const targets = [...xml.matchAll(/(?:action="|<Redirect[^>]*>)([^"<]+)/g)].map((match) => match[1]);
    for (const target of targets) expect(target?.startsWith(`${BASE}/twilio/voice`)).toBe(true);
  });
});
