/** GET /sandbox: a small page to play the phones by hand. It only uses /sandbox/api. */
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
</form>
<p id="error" class="warn"></p>
<h2>Phones</h2><div class="phones" id="phones"></div>
<h2>Calls</h2><div id="calls"></div>
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

function render(state) {
  renderNumbers(state.numbers);
  $("phones").innerHTML = state.phones.map((p) => '<div class="phone"><h3>' + esc(p.number) + "</h3>" +
    p.messages.map((m) => '<div class="msg ' + m.direction + '">' + esc(m.body) + '<div class="meta">' +
      (m.direction === "sent" ? "to " : "from ") + esc(m.peer) + "</div></div>").join("") + "</div>").join("");
  $("calls").innerHTML = state.calls.map((c) => "<div><code>" + esc(c.sid.slice(0, 10)) + "</code> " + esc(c.from) + " &rarr; " + esc(c.to) +
    ": " + esc(c.status) + (c.status === "in-progress" ? ' <button data-sid="' + esc(c.sid) + '">hang up</button>' : "") + "</div>").join("") || "none yet";
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

async function post(path, body) {
  try {
    const response = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
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
  const body = action === "sms" ? { to: data.get("to"), body: data.get("body") } : { to: data.get("to") };
  const result = await post("/sandbox/api/phones/" + from + "/" + (action === "sms" ? "sms" : "calls"), body);
  $("error").textContent = result.ok ? "" : result.message;
  // Cleared only once sent, so a failed text can be fixed and resent, and a sent one is not sent twice by accident.
  if (result.ok && action === "sms") form.elements.body.value = "";
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
