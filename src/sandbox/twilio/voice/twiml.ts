/**
 * TwiML (voice) parsing for the sandbox: turns the app's answer into a flat
 * list of verbs, or says why Twilio would refuse it. Only the shape is
 * checked here; the engine gives the verbs their meaning.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";

export interface TwimlNode {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  /** Text directly inside the element (nested SSML text included, for <Say>). */
  readonly text: string;
  readonly children: readonly TwimlNode[];
}

export type TwimlParse = { ok: true; verbs: TwimlNode[] } | { ok: false; message: string };

/** What the engine should do with an HTTP answer, before parsing it. */
export type AnswerKind =
  | { kind: "twiml"; verbs: TwimlNode[] }
  /** The document could not be used: `code` is the Twilio error to log. */
  | { kind: "error"; code: 12100 | 12300; message: string };

// Verbs the engine runs, with the nouns each may contain. <Say> may hold SSML,
// so its children are not checked (its text is collected instead).
const SUPPORTED: Readonly<Record<string, readonly string[] | "ssml">> = {
  Say: "ssml",
  Play: [],
  Pause: [],
  Gather: ["Say", "Play", "Pause"],
  Dial: ["Number", "Conference"],
  Redirect: [],
  Hangup: [],
  Reject: [],
  Record: [],
};

// Real TwiML the sandbox does not model: refused loudly (12100) rather than
// silently skipped, so an app relying on them notices in development.
const NOT_MODELLED = new Set([
  "Enqueue", "Leave", "Connect", "Refer", "Pay", "Prompt", "Start", "Stop", "Sms", "Message", "Echo",
  "Client", "Sip", "Sim", "Queue", "Application", "Stream",
]);

const parser = new XMLParser({
  preserveOrder: true, // verb order is the program order
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseTagValue: false, // "+15551234567" and "0123" must stay strings
  parseAttributeValue: false,
  trimValues: true,
});

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * One preserveOrder entry: `{ Tag: [...children], ":@": {attrs} }` or `{ "#text": "..." }`.
 * `speech` is set inside <Say>: SSML tags there wrap the words, so every
 * nested text counts, in document order; elsewhere only an element's own text
 * counts (e.g. the number inside <Dial>).
 */
function convert(raw: unknown, speech = false): TwimlNode | string | null {
  if (!isRecord(raw)) return null;
  let name: string | undefined;
  let content: unknown = [];
  const attrs: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === "#text") return typeof value === "string" ? value : String(value);
    if (key === ":@") {
      if (isRecord(value)) {
        for (const [attr, attrValue] of Object.entries(value)) {
          if (typeof attrValue === "string") attrs[attr] = attrValue;
        }
      }
    } else {
      name = key;
      content = value;
    }
  }
  if (name === undefined) return null;
  const inSpeech = speech || name === "Say";
  const children: TwimlNode[] = [];
  const parts: string[] = [];
  for (const entry of Array.isArray(content) ? (content as unknown[]) : []) {
    const node = convert(entry, inSpeech);
    if (typeof node === "string") parts.push(node);
    else if (node) {
      children.push(node);
      if (inSpeech && node.text) parts.push(node.text);
    }
  }
  return { name, attrs, text: parts.join(" "), children };
}

function check(verbs: readonly TwimlNode[], allowed: readonly string[] | null): string | null {
  for (const verb of verbs) {
    if (allowed !== null && !allowed.includes(verb.name)) {
      return NOT_MODELLED.has(verb.name)
        ? `<${verb.name}> is not supported by the sandbox`
        : `<${verb.name}> is not allowed here`;
    }
    // Nouns (<Number>, <Conference>) hold only text.
    const rule = allowed === null ? SUPPORTED[verb.name] : (SUPPORTED[verb.name] ?? []);
    if (rule === undefined) {
      return NOT_MODELLED.has(verb.name)
        ? `<${verb.name}> is not supported by the sandbox`
        : `unknown TwiML verb <${verb.name}>`;
    }
    if (rule !== "ssml") {
      const problem = check(verb.children, rule);
      if (problem) return problem;
    }
  }
  return null;
}

/** Parses a TwiML document; refuses non-XML, a root other than <Response>, unknown verbs. */
export function parseTwiml(xml: string): TwimlParse {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) return { ok: false, message: `not XML: ${valid.err.msg} (line ${valid.err.line})` };
  const top: unknown = parser.parse(xml);
  const roots = (Array.isArray(top) ? (top as unknown[]) : [])
    .map((entry) => convert(entry))
    .filter((n): n is TwimlNode => typeof n === "object" && n !== null && !n.name.startsWith("?"));
  const root = roots[0];
  if (roots.length !== 1 || root === undefined) return { ok: false, message: "expected one root element" };
  if (root.name !== "Response") return { ok: false, message: `root element is <${root.name}>, not <Response>` };
  const problem = check(root.children, null);
  if (problem) return { ok: false, message: problem };
  return { ok: true, verbs: [...root.children] };
}

/**
 * Classifies a 2xx answer by content type, as Twilio voice does (sheet §3):
 * XML/HTML -> TwiML; audio -> play it then hang up; text/plain -> TwiML if it
 * parses, else read aloud then hang up; anything else -> 12300.
 */
export function interpretAnswer(contentType: string, body: string, url: string | undefined): AnswerKind {
  const type = (contentType.split(";")[0] ?? "").trim().toLowerCase();
  if (type === "text/xml" || type === "application/xml" || type === "text/html") {
    const parsed = parseTwiml(body);
    return parsed.ok ? { kind: "twiml", verbs: parsed.verbs } : { kind: "error", code: 12100, message: parsed.message };
  }
  if (type.startsWith("audio/") && url !== undefined) {
    return { kind: "twiml", verbs: [synthetic("Play", url), synthetic("Hangup", "")] };
  }
  if (type === "text/plain") {
    const parsed = parseTwiml(body);
    if (parsed.ok) return { kind: "twiml", verbs: parsed.verbs };
    return { kind: "twiml", verbs: [synthetic("Say", body.trim()), synthetic("Hangup", "")] };
  }
  return { kind: "error", code: 12300, message: `Invalid Content-Type: ${contentType || "(none)"}` };
}

function synthetic(name: string, text: string): TwimlNode {
  return { name, attrs: {}, text, children: [] };
}
