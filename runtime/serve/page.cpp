// The "Recommended for You" page served at GET /: plain HTML, CSS and JS in one string, with no
// external resources (the Content-Security-Policy set by the handler forbids them). It talks to
// the JSON API: /users/ for the sign-in picker, /recommend/<id>/ and /history/<id>/ for the two
// columns, and POST /feedback for impressions and clicks. Text from the catalog is inserted with
// textContent only, never as HTML.
#include "runtime/serve/handler.h"

namespace gnnrec::serve {

const std::string& recommend_page_html() {
  static const std::string kPage = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Recommended for You · gnnrec</title>
<style>
:root { --ink:#1d2330; --muted:#667085; --line:#e4e7ec; --bg:#f5f6f8; --card:#fff;
        --accent:#e8590c; --accent2:#1f6feb; --ok:#12805c; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 "DejaVu Sans", system-ui, -apple-system, "Segoe UI", sans-serif;
       color: var(--ink); background: var(--bg); }
header { background: #111827; color: #fff; }
.bar { max-width: 1160px; margin: 0 auto; padding: 12px 20px; display: flex; align-items: center;
       gap: 18px; flex-wrap: wrap; }
.logo { font-weight: 700; font-size: 19px; letter-spacing: .2px; display: flex; align-items: center;
        gap: 9px; }
.logo i { width: 26px; height: 26px; border-radius: 7px; display: inline-block;
          background: linear-gradient(135deg, #ff8a3d, #e8590c 55%, #b33c00); }
.logo small { font-weight: 400; color: #9aa4b2; font-size: 12px; }
form.signin { margin-left: auto; display: flex; gap: 8px; align-items: center; }
form.signin label { color: #c7ced9; font-size: 13px; }
form.signin input, form.signin select { height: 32px; border-radius: 7px; border: 1px solid #374151;
       background: #1f2937; color: #fff; padding: 0 10px; font: inherit; }
form.signin input { width: 230px; }
button { height: 32px; border: 0; border-radius: 7px; padding: 0 14px; font: inherit;
         font-weight: 600; cursor: pointer; background: var(--accent); color: #fff; }
button.ghost { background: #374151; }
main { max-width: 1160px; margin: 0 auto; padding: 22px 20px 40px; display: grid;
       grid-template-columns: 1fr 300px; gap: 22px; }
h1 { font-size: 22px; margin: 0 0 4px; }
.sub { color: var(--muted); margin: 0 0 16px; }
.badges { display: flex; gap: 6px; flex-wrap: wrap; margin: 0 0 16px; }
.badge { font-size: 12px; padding: 2px 9px; border-radius: 999px; background: #eef2ff;
         color: #3538cd; border: 1px solid #c7d7fe; }
.badge.src { background: #ecfdf3; color: var(--ok); border-color: #abefc6; }
.badge.var { background: #fff4ed; color: #b93815; border-color: #f9dbaf; }
.notice { background: #fffaeb; border: 1px solid #fedf89; color: #93370d; border-radius: 9px;
          padding: 10px 14px; margin: 0 0 16px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(172px, 1fr)); gap: 14px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 11px; overflow: hidden;
        display: flex; flex-direction: column; transition: box-shadow .15s, transform .15s; }
.card:hover { box-shadow: 0 6px 18px rgba(16,24,40,.10); transform: translateY(-2px); }
.thumb { height: 72px; display: flex; align-items: center; justify-content: center; position: relative;
         color: rgba(255,255,255,.92); font-weight: 700; font-size: 26px; letter-spacing: 1px; }
.rank { position: absolute; top: 8px; left: 8px; background: rgba(17,24,39,.72); color: #fff;
        font-size: 11px; font-weight: 600; border-radius: 6px; padding: 1px 7px; letter-spacing: 0; }
.body { padding: 10px 12px 12px; display: flex; flex-direction: column; gap: 4px; flex: 1; }
.title { font-weight: 600; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical;
         overflow: hidden; min-height: 40px; }
.cat { color: var(--muted); font-size: 12px; white-space: nowrap; overflow: hidden;
       text-overflow: ellipsis; }
.row { display: flex; align-items: baseline; justify-content: space-between; margin-top: auto;
       padding-top: 6px; }
.price { font-weight: 700; font-size: 16px; }
.price.na { color: var(--muted); font-weight: 400; font-size: 13px; }
.score { color: var(--muted); font-size: 11px; }
.card button { margin-top: 8px; height: 30px; background: #fff; color: var(--accent2);
               border: 1px solid #b2ccff; }
.card button.done { background: #ecfdf3; color: var(--ok); border-color: #abefc6; }
aside { background: var(--card); border: 1px solid var(--line); border-radius: 11px; padding: 16px;
        align-self: start; }
aside h2 { font-size: 15px; margin: 0 0 2px; }
aside .sub { font-size: 12px; margin-bottom: 12px; }
.hist { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 10px; }
.hist li { display: flex; gap: 10px; align-items: center; }
.hist .mini { width: 42px; height: 42px; border-radius: 8px; flex: none; display: flex;
              align-items: center; justify-content: center; color: #fff; font-weight: 700; font-size: 14px; }
.hist .t { font-size: 13px; font-weight: 600; display: -webkit-box; -webkit-line-clamp: 2;
           -webkit-box-orient: vertical; overflow: hidden; }
.hist .m { font-size: 12px; color: var(--muted); }
.stars { color: #f79009; letter-spacing: 1px; }
.empty { color: var(--muted); font-size: 13px; }
footer { max-width: 1160px; margin: 0 auto; padding: 0 20px 30px; color: var(--muted); font-size: 12px; }
.err { background: #fef3f2; border: 1px solid #fecdca; color: #b42318; border-radius: 9px;
       padding: 10px 14px; margin-bottom: 16px; }
@media (max-width: 820px) { main { grid-template-columns: 1fr; } form.signin { margin-left: 0; } }
</style>
</head>
<body>
<header><div class="bar">
  <div class="logo"><i></i>gnnrec shop <small>GraphSAGE recommendations</small></div>
  <form class="signin" id="signin">
    <label for="uid">Sign in as</label>
    <input id="uid" list="users" placeholder="user id" autocomplete="off" spellcheck="false">
    <datalist id="users"></datalist>
    <select id="k" title="how many"><option>8</option><option selected>12</option><option>24</option><option>48</option></select>
    <button type="submit">Show</button>
    <button type="button" class="ghost" id="random">Random user</button>
  </form>
</div></header>
<main>
  <section>
    <h1 id="heading">Recommended for You</h1>
    <p class="sub" id="subheading">Pick a user above, or type any id (unknown ids get cold-start picks).</p>
    <div class="badges" id="badges"></div>
    <div id="notice"></div>
    <div class="grid" id="grid"></div>
  </section>
  <aside>
    <h2>Recent history</h2>
    <p class="sub" id="histsub">What this user bought or reviewed, newest first.</p>
    <ul class="hist" id="hist"></ul>
  </aside>
</main>
<footer id="footer">gnnrec serve</footer>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
let sampleUsers = [];

function hue(s) {  // a stable colour per category (FNV-1a 32)
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
  return (h >>> 0) % 360;
}
function tile(el, item) {
  // Category sets the colour family, the item id nudges it; the initials come from the product
  // noun (the title's last two words before any comma).
  const h = (hue(item.category || item.title || item.item_id) + (hue(item.item_id) % 36) - 18 + 360) % 360;
  el.style.background = `linear-gradient(135deg, hsl(${h},64%,60%), hsl(${(h + 38) % 360},56%,40%))`;
  const words = (item.title || item.category || "?").split(",")[0].split(/[^A-Za-z0-9]+/).filter(Boolean);
  el.textContent = words.slice(-2).map((w) => w[0].toUpperCase()).join("") || "?";
}
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
function stars(r) {
  const n = Math.max(0, Math.min(5, Math.round(r)));
  return "★".repeat(n) + "☆".repeat(5 - n);
}
function fmtPrice(p) { return p === null || p === undefined ? null : "$" + Number(p).toFixed(2); }
function fmtDate(ts) {
  if (!ts) return "";
  return new Date(ts * 1000).toLocaleDateString("en-US", { year: "numeric", month: "short", day: "numeric" });
}
async function getJSON(url) {
  const r = await fetch(url, { headers: { Accept: "application/json" } });
  const j = await r.json().catch(() => ({ error: "bad_response", detail: "HTTP " + r.status }));
  if (!r.ok) throw new Error((j.error || "error") + ": " + (j.detail || r.status));
  return j;
}
function feedback(user, item, event) {
  fetch("/feedback", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user_id: user, item_id: item, event }) }).catch(() => {});
}
function badge(text, cls) { $("badges").appendChild(el("span", "badge " + (cls || ""), text)); }

async function show(user) {
  const k = $("k").value;
  $("uid").value = user;
  history.replaceState(null, "", "?user=" + encodeURIComponent(user) + "&k=" + k);
  $("grid").replaceChildren(); $("hist").replaceChildren(); $("badges").replaceChildren();
  $("notice").replaceChildren();
  const t0 = performance.now();
  let rec, hist;
  try {
    [rec, hist] = await Promise.all([
      getJSON("/recommend/" + encodeURIComponent(user) + "/?k=" + k),
      getJSON("/history/" + encodeURIComponent(user) + "/?n=8")]);
  } catch (e) {
    $("notice").appendChild(el("div", "err", String(e.message)));
    return;
  }
  const ms = performance.now() - t0;
  $("heading").textContent = "Recommended for You";
  $("subheading").textContent = rec.known_user
      ? `Signed in as ${rec.user_id} · ${hist.interactions} past interactions`
      : `Welcome, ${rec.user_id} · new visitor`;
  badge("variant " + rec.variant, "var");
  badge("model " + rec.model);
  badge(rec.source.replace("_", " ") + (rec.strategy ? " · " + rec.strategy : ""), "src");
  if (!rec.known_user) {
    $("notice").appendChild(el("div", "notice",
      "We don't know you yet, so these are the shop's most popular items. " +
      "Interact with a few and the recommendations will follow your taste."));
  }
  rec.items.forEach((it, i) => {
    const c = el("div", "card");
    const th = el("div", "thumb"); tile(th, it);
    th.appendChild(el("span", "rank", "#" + (i + 1)));
    c.appendChild(th);
    const b = el("div", "body");
    b.appendChild(el("div", "title", it.title || it.item_id));
    b.appendChild(el("div", "cat", [it.category, it.brand].filter(Boolean).join(" · ") || "Uncategorised"));
    const row = el("div", "row");
    const p = fmtPrice(it.price);
    row.appendChild(el("span", p ? "price" : "price na", p || "price n/a"));
    row.appendChild(el("span", "score", "score " + (it.score === null ? "–" : Number(it.score).toFixed(3))));
    b.appendChild(row);
    const btn = el("button", "", "View item");
    btn.addEventListener("click", () => { feedback(rec.user_id, it.item_id, "click");
      btn.textContent = "Viewed ✓"; btn.className = "done"; });
    b.appendChild(btn);
    c.appendChild(b);
    $("grid").appendChild(c);
    feedback(rec.user_id, it.item_id, "impression");
  });
  if (!rec.items.length) $("grid").appendChild(el("p", "empty", "Nothing left to recommend."));
  $("histsub").textContent = hist.known_user
      ? `${hist.interactions} interactions, newest first.` : "No history for this id.";
  hist.items.forEach((it) => {
    const li = el("li");
    const m = el("div", "mini"); tile(m, it); li.appendChild(m);
    const d = el("div");
    d.appendChild(el("div", "t", it.title || it.item_id));
    const meta = el("div", "m");
    if (it.rating) meta.appendChild(el("span", "stars", stars(it.rating) + " "));
    meta.appendChild(document.createTextNode([fmtDate(it.timestamp), fmtPrice(it.price)].filter(Boolean).join(" · ")));
    d.appendChild(meta); li.appendChild(d);
    $("hist").appendChild(li);
  });
  if (!hist.items.length) $("hist").appendChild(el("li", "empty", "Nothing yet."));
  $("footer").textContent = `Served by gnnrec · variant ${rec.variant} · model ${rec.model} · ` +
      `generation ${rec.model_generation} · ${rec.source} · ${ms.toFixed(1)} ms round trip`;
}

async function init() {
  const q = new URLSearchParams(location.search);
  if (q.get("k")) $("k").value = q.get("k");
  try {
    const u = await getJSON("/users/?limit=40");
    sampleUsers = u.users.map((x) => x.user_id);
    for (const x of u.users) {
      const o = document.createElement("option");
      o.value = x.user_id; o.label = x.interactions + " interactions";
      $("users").appendChild(o);
    }
  } catch (e) { $("notice").appendChild(el("div", "err", String(e.message))); }
  const start = q.get("user") || sampleUsers[0];
  if (start) show(start);
}
$("signin").addEventListener("submit", (e) => { e.preventDefault();
  const v = $("uid").value.trim(); if (v) show(v); });
$("random").addEventListener("click", () => {
  if (sampleUsers.length) show(sampleUsers[Math.floor(Math.random() * sampleUsers.length)]); });
$("k").addEventListener("change", () => { const v = $("uid").value.trim(); if (v) show(v); });
init();
</script>
</body>
</html>
)HTML";
  return kPage;
}

}  // namespace gnnrec::serve
