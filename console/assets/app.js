// The openimbot console: plain JavaScript, no build step, no dependencies.
"use strict";

const $ = (sel) => document.querySelector(sel);
const state = {
  info: null,
  after: 0,
  messages: new Map(),  // "conv/seq" -> message
  handled: new Map(),   // "conv/seq" -> handled event
  traces: new Map(),    // "conv/seq" -> trace
  selected: null,
  quoting: null,
};

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

async function api(path, body) {
  const opts = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const res = await fetch(path, opts);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

// Mentions: "@id" in text is highlighted when id is mentioned.
function withMentions(html, mentions) {
  for (const id of mentions || []) {
    const at = "@" + esc(id);
    html = html.split(at).join('<span class="mention">' + at + "</span>");
  }
  return html;
}

// A small, safe Markdown renderer: the text is escaped first, then
// headings, lists, bold, italics, code and links are marked up.
function markdown(src) {
  const inline = (s) => s
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^*])\*([^*]+)\*/g, "$1<em>$2</em>")
    .replace(/\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g, '<a href="$2" target="_blank" rel="noopener">$1</a>');
  const out = [];
  let list = false;
  for (const raw of esc(src).split("\n")) {
    const line = raw.trimEnd();
    const item = line.match(/^\s*[-*] (.*)$/);
    if (item) {
      if (!list) { out.push("<ul>"); list = true; }
      out.push("<li>" + inline(item[1]) + "</li>");
      continue;
    }
    if (list) { out.push("</ul>"); list = false; }
    const h = line.match(/^(#{1,4}) (.*)$/);
    if (h) out.push("<h" + (h[1].length + 2) + ">" + inline(h[2]) + "</h" + (h[1].length + 2) + ">");
    else if (line) out.push("<p>" + inline(line) + "</p>");
  }
  if (list) out.push("</ul>");
  return out.join("");
}

function currentChat() {
  const type = $("#chat-type").value;
  return { from: $("#from").value.trim(), group: type === "group" ? $("#group").value.trim() : "" };
}

function inCurrentChat(m) {
  const { from, group } = currentChat();
  const bot = state.info.bot;
  if (group) return m.group === group;
  return !m.group && ((m.from === from && m.to === bot) || (m.from === bot && m.to === from));
}

function key(conv, seq) { return conv + "/" + seq; }

function renderMessage(m) {
  const k = m.key;
  const li = document.createElement("li");
  const mine = m.from === state.info.bot;
  li.className = "msg " + (mine ? "bot" : "user");
  li.dataset.key = k;
  let body = "";
  if (m.quoteText || m.quoteFrom) body += "<blockquote>" + esc(m.quoteFrom) + ": " + esc(m.quoteText) + "</blockquote>";
  if (m.picture) body += '<div class="body"><img alt="picture" src="' + esc(m.picture) + '"></div>';
  else if (m.markdown) body += '<div class="body md">' + markdown(m.markdown) + "</div>";
  else body += '<div class="body">' + withMentions(esc(m.text), m.mentions) + "</div>";
  li.innerHTML = '<div class="who">' + esc(m.from) + (m.group ? " in " + esc(m.group) : "") + (m.seq ? " · #" + m.seq : "") +
    '</div>' + (m.seq ? '<button type="button" class="quote-btn" title="quote this message">quote</button>' : "") + body +
    (mine ? "" : '<div class="route dim">routing…</div>');
  li.addEventListener("click", (e) => {
    if (e.target.classList.contains("quote-btn")) { startQuote(m); return; }
    select(k);
  });
  return li;
}

function renderHandled(li, h) {
  const el = li.querySelector(".route");
  if (!el || !h) return;
  const route = h.route || "none";
  el.className = "route" + (h.error ? " err" : "");
  el.innerHTML = "route <b>" + esc(route) + "</b> · " + h.durationMs.toFixed(2) + " ms" +
    (h.panic ? " · <b>panicked</b>" : h.error ? " · <b>error</b>: " + esc(h.error) : "");
}

function redrawMessages() {
  const ol = $("#messages");
  ol.innerHTML = "";
  for (const m of state.messages.values()) {
    if (!inCurrentChat(m)) continue;
    const li = renderMessage(m);
    renderHandled(li, state.handled.get(li.dataset.key));
    if (li.dataset.key === state.selected) li.classList.add("selected");
    ol.appendChild(li);
  }
  ol.scrollTop = ol.scrollHeight;
}

function addMessage(m) {
  const k = m.key;
  state.messages.set(k, m);
  if (!inCurrentChat(m)) return;
  const ol = $("#messages");
  const li = renderMessage(m);
  renderHandled(li, state.handled.get(k));
  ol.appendChild(li);
  ol.scrollTop = ol.scrollHeight;
}

function renderTrace(tr, title) {
  const div = $("#trace");
  if (!tr) { div.innerHTML = '<p class="dim">No trace for this message (the bot\'s own messages are not routed).</p>'; return; }
  let html = '<p class="summary">' + esc(title) + ": <code>" + esc(JSON.stringify(tr.text)) + "</code> — " +
    tr.candidates + " of " + tr.routes + " routes selected by the index; " +
    (tr.route ? "route <b id=\"trace-route\">" + esc(tr.route) + "</b> runs" : tr.notFound ? "no route: the not-found handler runs" : "<b id=\"trace-route\">no route</b> runs") + "</p>";
  html += "<table><thead><tr><th>route</th><th>matched</th><th>result</th><th>why / via</th></tr></thead><tbody>";
  for (const s of tr.steps) {
    html += '<tr class="step' + (s.ran ? " ran" : "") + '"><td><code>' + esc(s.route) + "</code></td>" +
      '<td class="' + (s.matched ? "ok" : "no") + '">' + (s.matched ? "yes" : "no") + "</td><td>" + esc(s.result) + "</td><td>" +
      esc(s.why || "") + (s.why ? "<br>" : "") + '<span class="dim">' + esc(s.via) + "</span></td></tr>";
  }
  div.innerHTML = html + "</tbody></table>";
}

function select(k) {
  state.selected = k;
  document.querySelectorAll(".msg.selected").forEach((el) => el.classList.remove("selected"));
  const li = document.querySelector('.msg[data-key="' + CSS.escape(k) + '"]');
  if (li) li.classList.add("selected");
  const m = state.messages.get(k);
  renderTrace(state.traces.get(k), "Message #" + (m ? m.seq : "?") + " from " + (m ? m.from : "?"));
}

function startQuote(m) {
  state.quoting = m;
  $("#quoting").hidden = false;
  $("#quoting-text").textContent = m.from + ": " + (m.text || m.markdown || "[picture]").slice(0, 60);
  $("#text").focus();
}

function stopQuote() {
  state.quoting = null;
  $("#quoting").hidden = true;
}

async function poll() {
  for (;;) {
    try {
      const data = await api("api/events?after=" + state.after);
      for (const ev of data.events) {
        state.after = Math.max(state.after, ev.id);
        if (ev.type === "message") {
          const k = ev.message.key;
          if (ev.trace) state.traces.set(k, ev.trace);
          addMessage(ev.message);
          // A message the user just sent is selected, so its trace shows.
          if (ev.message.from !== state.info.bot && inCurrentChat(ev.message)) select(k);
        } else if (ev.type === "handled") {
          const k = key(ev.conversation, ev.seq);
          state.handled.set(k, ev);
          const li = document.querySelector('.msg[data-key="' + CSS.escape(k) + '"]');
          if (li) renderHandled(li, ev);
        }
      }
    } catch (e) {
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function loadRoutes() {
  const data = await api("api/routes");
  const tbody = $("#routes tbody");
  tbody.innerHTML = "";
  for (const r of data.routes) {
    const tr = document.createElement("tr");
    tr.innerHTML = "<td>" + r.rank + "</td><td>" + esc(r.name) + "</td><td><code>" + esc(r.matcher) + "</code></td><td>" +
      r.priority + "</td><td>" + (r.blocking ? "stop" : "continue") + '</td><td class="dim">' + esc(r.source) + "</td>";
    tbody.appendChild(tr);
  }
  $("#route-count").textContent = data.routes.length + " routes, in precedence order";
  const ul = $("#findings");
  ul.innerHTML = "";
  for (const f of data.findings) {
    const li = document.createElement("li");
    li.className = "kind-" + f.kind;
    li.textContent = f.source + ": " + f.kind + ": " + f.message;
    ul.appendChild(li);
  }
  if (!data.findings.length) ul.innerHTML = '<li class="dim">no overlaps or shadowed routes</li>';
}

const shownCounters = [
  ["messages_received_total", "received"], ["messages_handled_total", "handled"],
  ["messages_duplicate_total", "duplicates dropped"], ["handler_errors_total", "handler errors"],
  ["sends_total", "sends"], ["send_failures_total", "send failures"],
  ["sync_lag_messages", "sync lag"], ["worker_queue_depth", "queue depth"],
  ["reconnects_total", "reconnects"], ["storage_commit_duration_seconds", "storage commits"],
  ["config_reloads_total", "config reloads"], ["connected", "connected"],
];

async function loadStats() {
  try {
    const data = await api("api/stats");
    const dl = $("#counters");
    dl.innerHTML = "";
    for (const [name, label] of shownCounters) {
      const v = data.counters[name];
      const div = document.createElement("div");
      div.innerHTML = "<dt>" + esc(label) + '</dt><dd id="c-' + name + '">' + (v === undefined ? "–" : Math.round(v * 100) / 100) + "</dd>";
      dl.appendChild(div);
    }
    const r = $("#ready");
    r.textContent = data.ready ? "ready" : "not ready";
    r.title = data.readiness;
    r.className = "tag " + (data.ready ? "ok" : "bad");
  } catch (e) { /* the next tick retries */ }
}

async function send(e) {
  e.preventDefault();
  const text = $("#text").value;
  const picture = $("#picture").value.trim();
  if (!text.trim() && !picture) return;
  const { from, group } = currentChat();
  const body = { from, group, text, picture, mentions: $("#mentions").value.split(/[\s,]+/).filter(Boolean) };
  if (state.quoting) { body.quoteConversation = state.quoting.conversation; body.quoteSeq = state.quoting.seq; }
  $("#send").disabled = true;
  try {
    await api("api/send", body);
    $("#text").value = "";
    $("#picture").value = "";
    stopQuote();
  } catch (err) {
    alert(err.message);
  } finally {
    $("#send").disabled = false;
    $("#text").focus();
  }
}

async function tryTrace(e) {
  e.preventDefault();
  const { from, group } = currentChat();
  const text = $("#try-text").value;
  const tr = await api("api/trace", { text, sender: from, group, mentions: $("#mentions").value.split(/[\s,]+/).filter(Boolean) });
  state.selected = null;
  document.querySelectorAll(".msg.selected").forEach((el) => el.classList.remove("selected"));
  renderTrace(tr, "Trial");
}

async function main() {
  state.info = await api("api/info");
  $("#botid").textContent = "bot: " + state.info.bot;
  $("#mode").textContent = state.info.mode === "sandbox" ? "embedded sandbox" : "OpenIM server";
  const dl = $("#users");
  for (const u of state.info.users) { const o = document.createElement("option"); o.value = u; dl.appendChild(o); }
  if (state.info.users.length) $("#from").value = state.info.users[0];
  if (!state.info.chat) {
    $("#chat-off").hidden = false;
    $("#composer").hidden = true;
  }
  $("#composer").addEventListener("submit", send);
  $("#try").addEventListener("submit", tryTrace);
  $("#quote-cancel").addEventListener("click", stopQuote);
  $("#chat-type").addEventListener("change", () => { $("#group").hidden = $("#chat-type").value !== "group"; redrawMessages(); });
  $("#from").addEventListener("change", redrawMessages);
  $("#group").addEventListener("change", redrawMessages);
  await loadRoutes().catch(() => {});
  loadStats();
  setInterval(loadStats, 1000);
  setInterval(() => loadRoutes().catch(() => {}), 10000);
  document.body.dataset.ready = "1";
  if (state.info.chat) poll();
}

main();
