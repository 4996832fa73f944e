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
  .received { background: #e8e8ee; } .sent { background: #2b7cff; color: white; margin-left: auto; }
  .meta { font-size: .75rem; color: #777; }
  form { display: flex; gap: .4rem; margin-top: .5rem; flex-wrap: wrap; }
  input, select, button { font: inherit; padding: .3rem .5rem; }
  code { background: #eee; padding: 0 .3rem; border-radius: 4px; }
  .warn { color: #b00; }
</style>
</head>
<body>
<h1>expertline sandbox</h1>
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
async function refresh() {
  const state = await (await fetch("/sandbox/api/state")).json();
  $("numbers").innerHTML = state.numbers.map((n) => "<code>" + esc(n.phoneNumber) + "</code>").join(" ") || "none yet (created when the app needs one)";
  const to = $("to"); const chosen = to.value;
  to.innerHTML = state.numbers.map((n) => "<option>" + esc(n.phoneNumber) + "</option>").join("");
  if (chosen) to.value = chosen;
  $("phones").innerHTML = state.phones.map((p) => '<div class="phone"><h3>' + esc(p.number) + "</h3>" +
    p.messages.map((m) => '<div class="msg ' + m.direction + '">' + esc(m.body) + '<div class="meta">' +
      (m.direction === "sent" ? "to " : "from ") + esc(m.peer) + "</div></div>").join("") + "</div>").join("");
  $("calls").innerHTML = state.calls.map((c) => "<div><code>" + esc(c.sid.slice(0, 10)) + "</code> " + esc(c.from) + " &rarr; " + esc(c.to) +
    ": " + esc(c.status) + (c.status === "in-progress" ? ' <button data-sid="' + esc(c.sid) + '">hang up</button>' : "") + "</div>").join("");
  $("violations").textContent = state.contractViolations.length ? state.contractViolations.length + " request(s) broke the Twilio API contract: see /sandbox/api/state" : "";
}
$("compose").addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(event.target);
  const action = event.submitter.value;
  const from = encodeURIComponent(data.get("from"));
  const body = action === "sms" ? { to: data.get("to"), body: data.get("body") } : { to: data.get("to") };
  const response = await fetch("/sandbox/api/phones/" + from + "/" + (action === "sms" ? "sms" : "calls"),
    { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  $("error").textContent = response.ok ? "" : (await response.json()).message;
  refresh();
});
$("calls").addEventListener("click", async (event) => {
  const sid = event.target.dataset.sid;
  if (sid) { await fetch("/sandbox/api/calls/" + sid + "/hangup", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }); refresh(); }
});
refresh(); setInterval(refresh, 2000);
</script>
</body>
</html>`;
