/**
 * GET /sandbox: a small page to play the phones by hand. It only uses
 * /sandbox/api. Each phone's card says how it answers calls and what it
 * presses or says at the prompts; calls show their legs and what each side
 * heard. Cards are built once and then updated in place, so a refresh never
 * wipes what someone is typing into one.
 */
export const SANDBOX_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>expertline sandbox: simulated phones</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1100px; }
  h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
  .phones { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 1rem; }
  .phone { border: 1px solid #ccc; border-radius: 12px; padding: .8rem; background: #fafafa; }
  .phone h3 { margin: 0 0 .5rem; font-size: 1rem; }
  .msg { margin: .3rem 0; padding: .4rem .6rem; border-radius: 10px; max-width: 85%; white-space: pre-wrap; }
  /* Colours meet WCAG AA (4.5:1) for the small meta line too: 6.1:1 on grey, 5.1:1 on blue (white body text 5.8:1). */
  .received { background: #e8e8ee; } .sent { background: #0b5ed7; color: white; margin-left: auto; }
  .meta { font-size: .75rem; color: #555; } .sent .meta { color: #e8f0ff; }
  form { display: flex; gap: .4rem; margin-top: .5rem; flex-wrap: wrap; }
  input, select, button { font: inherit; padding: .3rem .5rem; }
  code { background: #eee; padding: 0 .3rem; border-radius: 4px; }
  .warn { color: #b00; }
  .voice { margin-top: .6rem; padding-top: .5rem; border-top: 1px dashed #ccc; font-size: .9rem; }
  .voice form { margin-top: .3rem; }
  .chip { display: inline-block; margin: .1rem .2rem .1rem 0; padding: 0 .4rem; border-radius: 8px; background: #e8e8ee; }
  .call { margin: .4rem 0; } .leg { margin-left: 1.5rem; }
  .call ul { margin: .2rem 0 .2rem 1.5rem; padding: 0; font-size: .9rem; }
</style>
</head>
<body>
<h1>expertline sandbox</h1>
<p id="offline" class="warn" role="alert" hidden>sandbox unreachable, retrying&hellip;</p>
<p>Every phone the product talks to appears here. Text or call a platform number from any phone: the sandbox signs and
delivers the webhook to the app, exactly as Twilio would.</p>
<h2>Platform numbers</h2><div id="numbers"></div>
<h2>Text or call from a phone</h2>
<form id="compose">
  <input name="from" placeholder="from, e.g. +14155550123" required>
  <select name="to" id="to"></select>
  <input name="body" placeholder="message (e.g. YES)" size="30">
  <button name="action" value="sms">Send text</button>
  <button name="action" value="call">Call</button>
  <button name="action" value="phone">Add phone</button>
</form>
<p id="error" class="warn"></p>
<h2>Phones</h2><div class="phones" id="phones"></div>
<h2>Calls</h2><div id="calls"></div>
<h2>Conferences</h2><div id="conferences"></div>
<p id="violations" class="warn"></p>
<script>
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const NORMAL_MS = 2000;
/** Right after a send the app's reply is typically 50-300 ms away: poll fast until it arrives (or FAST_FOR_MS passes). */
const FAST_MS = 250, FAST_FOR_MS = 5000;
let fastUntil = 0;
/** How many messages the first refresh after a send showed: one more means the reply is in. */
let messagesAtSend;
let timer;
let latest = 0;
let shownNumbers;

function renderNumbers(numbers) {
  const list = numbers.map((n) => n.phoneNumber);
  $("numbers").innerHTML = list.map((n) => "<code>" + esc(n) + "</code>").join(" ") || "none yet (created when the app needs one)";
  // Rebuilding an open <select> closes it under the user's cursor: only touch it when the numbers changed.
  if (shownNumbers === list.join()) return;
  shownNumbers = list.join();
  const to = $("to"); const chosen = to.value;
  to.innerHTML = list.map((n) => "<option>" + esc(n) + "</option>").join("");
  if (list.includes(chosen)) to.value = chosen;
}

/** Cards by phone number: built once, then updated in place. */
const cards = new Map();
/** The phones as last shown, for edits that build on what is there (the inputs list). */
const shownPhones = new Map();
const ANSWERS = [["answer", "answers"], ["busy", "is busy"], ["no-answer", "does not answer"], ["fail", "is unreachable"]];

function newCard(number) {
  const card = document.createElement("div");
  card.className = "phone";
  card.dataset.number = number;
  card.innerHTML = "<h3>" + esc(number) + '</h3><div class="thread"></div><div class="voice">' +
    '<label>When called, it <select class="answer">' + ANSWERS.map(([value, label]) => '<option value="' + value + '">' + label + "</option>").join("") + "</select></label>" +
    '<div>When prompted on a call, it gives in turn: <span class="inputs"></span></div>' +
    '<form class="queue"><input name="input" placeholder="keys (1) or words to say" size="24">' +
    '<button value="digits">Press keys</button><button value="speech">Say it</button><button value="clear">Clear</button></form>' +
    '<button class="call-from" type="button">Call the selected number</button></div>';
  $("phones").appendChild(card);
  cards.set(number, card);
  return card;
}

function renderPhones(phones) {
  for (const p of phones) {
    shownPhones.set(p.number, p);
    const card = cards.get(p.number) || newCard(p.number);
    const thread = p.messages.map((m) => '<div class="msg ' + m.direction + '">' + esc(m.body) + '<div class="meta">' +
      (m.direction === "sent" ? "to " : "from ") + esc(m.peer) + "</div></div>").join("");
    const threadBox = card.querySelector(".thread");
    if (threadBox.dataset.shown !== thread) { threadBox.innerHTML = thread; threadBox.dataset.shown = thread; }
    const inputs = (p.voice.inputs || []).map((i) => '<span class="chip">' + ("digits" in i ? "presses " + esc(i.digits) : "says &ldquo;" + esc(i.speech) + "&rdquo;") + "</span>").join("") ||
      "nothing (each prompt times out)";
    const inputsBox = card.querySelector(".inputs");
    if (inputsBox.innerHTML !== inputs) inputsBox.innerHTML = inputs;
    const answer = card.querySelector(".answer");
    // Not while someone is choosing in it.
    if (document.activeElement !== answer) answer.value = p.voice.answer;
  }
}

function logLines(call) {
  const lines = (call.log || []).map((line) => "<li>" + (line.kind === "heard" ? "heard &ldquo;" + esc(line.text) + "&rdquo;" :
    line.kind === "gave" ? "gave " + esc(line.text) : esc(line.text)) + "</li>").join("");
  return lines ? '<ul class="heard">' + lines + "</ul>" : "";
}

function callLine(call, cls) {
  return '<div class="' + cls + '" data-call="' + esc(call.sid) + '"><code>' + esc(call.sid.slice(0, 10)) + "</code> " + esc(call.from) + " &rarr; " + esc(call.to) +
    " (" + esc(call.direction) + '): <span class="status">' + esc(call.status) + "</span>" +
    (call.status === "in-progress" ? ' <button class="hangup" data-sid="' + esc(call.sid) + '">hang up</button>' : "") + logLines(call);
}

function renderCalls(calls, conferences) {
  // A call with its legs (<Dial>ed numbers) under it.
  const legs = new Map();
  for (const c of calls) if (c.parent_call_sid) legs.set(c.parent_call_sid, [...(legs.get(c.parent_call_sid) || []), c]);
  const html = calls.filter((c) => !c.parent_call_sid).map((c) =>
    callLine(c, "call") + (legs.get(c.sid) || []).map((leg) => callLine(leg, "leg") + "</div>").join("") + "</div>").join("") || "none yet";
  if ($("calls").dataset.shown !== html) { $("calls").innerHTML = html; $("calls").dataset.shown = html; }
  $("conferences").innerHTML = conferences.map((c) => "<div><code>" + esc(c.sid.slice(0, 10)) + "</code> " + esc(c.friendly_name) + ": " + esc(c.status) +
    (c.reason_conference_ended ? " (" + esc(c.reason_conference_ended) + ")" : "") + "</div>").join("") || "none yet";
}

function render(state) {
  renderNumbers(state.numbers);
  renderPhones(state.phones);
  renderCalls(state.calls, state.conferences);
  $("violations").textContent = state.contractViolations.length ? state.contractViolations.length + " request(s) broke the Twilio API contract: see /sandbox/api/state" : "";
  const messages = state.phones.reduce((sum, p) => sum + p.messages.length, 0);
  if (messagesAtSend === undefined) messagesAtSend = messages;
  else if (messages > messagesAtSend) fastUntil = 0; // the reply is in: back to the normal pace
}

async function refresh() {
  const mine = ++latest;
  try {
    const response = await fetch("/sandbox/api/state");
    if (!response.ok) throw new Error("HTTP " + response.status);
    const state = await response.json();
    if (mine !== latest) return; // a newer refresh started meanwhile: its answer is the fresher one
    render(state);
    $("offline").hidden = true;
  } catch {
    if (mine === latest) $("offline").hidden = false; // the next poll retries
  }
}

/** One pending timer at most: every tick (and every send) replaces it. */
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(tick, Date.now() < fastUntil ? FAST_MS : NORMAL_MS);
}
async function tick() { clearTimeout(timer); await refresh(); schedule(); }
function pollFast() { fastUntil = Date.now() + FAST_FOR_MS; messagesAtSend = undefined; tick(); }

async function post(path, body, method = "POST") {
  try {
    const response = await fetch(path, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    if (response.ok) return { ok: true };
    const problem = await response.json().catch(() => ({}));
    return { ok: false, message: problem.message || "the sandbox answered " + response.status };
  } catch {
    return { ok: false, message: "sandbox unreachable" };
  }
}

$("compose").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const data = new FormData(form);
  const action = event.submitter.value;
  const from = encodeURIComponent(data.get("from"));
  if (action === "phone") {
    // Sets nothing: the phone comes into being, and its card with it.
    const added = await post("/sandbox/api/phones/" + from + "/behavior", {}, "PATCH");
    $("error").textContent = added.ok ? "" : added.message;
    return tick();
  }
  const body = action === "sms" ? { to: data.get("to"), body: data.get("body") } : { to: data.get("to") };
  const result = await post("/sandbox/api/phones/" + from + "/" + (action === "sms" ? "sms" : "calls"), body);
  $("error").textContent = result.ok ? "" : result.message;
  // Cleared only once sent, so a failed text can be fixed and resent, and a sent one is not sent twice by accident.
  if (result.ok && action === "sms") form.elements.body.value = "";
  if (result.ok) pollFast(); else tick();
});
/** How a phone answers, and what it gives at the prompts: one change at a time, on the phone's own card. */
const behaviorOf = (card, patch) => post("/sandbox/api/phones/" + encodeURIComponent(card.dataset.number) + "/behavior", patch, "PATCH");
$("phones").addEventListener("change", async (event) => {
  if (!event.target.classList.contains("answer")) return;
  const result = await behaviorOf(event.target.closest(".phone"), { answer: event.target.value });
  $("error").textContent = result.ok ? "" : result.message;
  tick();
});
$("phones").addEventListener("submit", async (event) => {
  event.preventDefault();
  const card = event.target.closest(".phone");
  const field = event.target.elements.input;
  const kind = event.submitter.value;
  const shown = (shownPhones.get(card.dataset.number)?.voice.inputs) || [];
  const text = field.value.trim();
  if (kind !== "clear" && text === "") { $("error").textContent = "type the keys to press or the words to say first"; return; }
  const inputs = kind === "clear" ? [] : [...shown, kind === "digits" ? { digits: text } : { speech: text }];
  const result = await behaviorOf(card, { inputs });
  $("error").textContent = result.ok ? "" : result.message;
  if (result.ok) field.value = "";
  tick();
});
$("phones").addEventListener("click", async (event) => {
  if (!event.target.classList.contains("call-from")) return;
  const from = encodeURIComponent(event.target.closest(".phone").dataset.number);
  const result = await post("/sandbox/api/phones/" + from + "/calls", { to: $("to").value });
  $("error").textContent = result.ok ? "" : result.message;
  if (result.ok) pollFast(); else tick();
});
$("calls").addEventListener("click", async (event) => {
  const sid = event.target.dataset.sid;
  if (!sid) return;
  const result = await post("/sandbox/api/calls/" + encodeURIComponent(sid) + "/hangup", {});
  $("error").textContent = result.ok ? "" : result.message;
  tick();
});
tick();
</script>
</body>
</html>`;
