// 服务评价 (/kiosk/rate): with the citizen's ID card in the reader, the
// card holder's services of the last 30 days not rated yet (待评价: GET
// /api/v1/kiosk/evaluations/pending — served queue tickets, concluded
// cases, answered questions, delivered certificates) are offered as large
// choices; the chosen one is rated with the evaluation pad's five large
// faces and their words (POST /api/v1/kiosk/evaluations with the card
// session) and then leaves the list. One rated elsewhere meanwhile is
// refused by the server (already_rated): the page says so and drops it.
// Taking the card out clears the page.
import { call, hideProblem, problemOf, readCard, showProblem, watchCard } from "/static/kiosk-queue-view.js";

const $ = (id) => document.getElementById(id);

const titles = {
  already_rated: "这次服务已经评价过了，谢谢您",
  event_not_finished: "办理尚未完成，完成后再评价",
  not_your_event: "只能评价本人办理的服务",
  unauthorized: "请重新刷身份证",
};

// finishedLabel is "11月25日 09:30" in China's time, from RFC 3339.
function finishedLabel(s) {
  const m = /^\d{4}-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(s || "");
  return m ? `${Number(m[1])}月${Number(m[2])}日 ${m[3]}:${m[4]}` : "";
}

const root = $("rate");
if (root) init(root);

function init(root) {
  const state = $("card-state");
  const needCard = $("need-card");
  const events = $("rate-events");
  const list = $("rate-event-list");
  const empty = $("rate-empty");
  const facesBox = $("rate-faces");
  const thanks = $("rate-thanks");
  const faces = [...facesBox.querySelectorAll("button.pad-face")];
  let card = { token: "", holder: null };
  let chosen = null;
  let busy = false;

  function clear() {
    list.replaceChildren();
    events.hidden = true;
    empty.hidden = true;
    facesBox.hidden = true;
    thanks.hidden = true;
    chosen = null;
  }

  function choose(ev, button) {
    chosen = { ev, button };
    for (const b of list.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b === button));
    $("rate-event-name").textContent = `“${ev.title}”`;
    thanks.hidden = true;
    hideProblem();
    facesBox.hidden = false;
    facesBox.scrollIntoView({ block: "nearest" });
  }

  // drop takes the chosen service off the list once it is rated.
  function drop() {
    if (!chosen) return;
    chosen.button.remove();
    chosen = null;
    facesBox.hidden = true;
    const left = list.querySelectorAll("button.rate-event").length;
    events.hidden = left === 0;
    empty.hidden = left > 0;
    root.dataset.state = left > 0 ? "listed" : "done";
  }

  async function refresh() {
    card = await readCard();
    hideProblem();
    clear();
    if (card.problem) {
      root.dataset.state = "refused";
      needCard.hidden = true;
      state.textContent = "";
      showProblem(card.problem);
      return;
    }
    if (!card.holder) {
      root.dataset.state = "need-card";
      needCard.hidden = false;
      state.textContent = card.stale ? "身份证信息已失效，请重新刷卡。" : "没有读取到身份证。";
      return;
    }
    needCard.hidden = true;
    state.textContent = `${card.holder.name_masked}，您好：请选择要评价的服务。`;
    const token = card.token;
    const r = await call("GET", "/api/v1/kiosk/evaluations/pending", undefined, token);
    if (token !== card.token) return;
    if (!(r.res && r.res.ok && r.data)) {
      showProblem(problemOf(r, titles));
      return;
    }
    const items = r.data.items || [];
    for (const ev of items) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "button rate-event";
      b.dataset.kind = ev.event_kind;
      b.dataset.id = ev.event_id;
      b.setAttribute("aria-pressed", "false");
      const title = document.createElement("span");
      title.className = "rate-event-title";
      title.textContent = `${ev.kind_label}：${ev.title}`;
      const when = document.createElement("span");
      when.className = "rate-event-when";
      const at = finishedLabel(ev.finished_at);
      when.textContent = at ? `办结于 ${at}` : "";
      b.append(title, when);
      b.addEventListener("click", () => choose(ev, b));
      list.append(b);
    }
    events.hidden = items.length === 0;
    empty.hidden = items.length > 0;
    root.dataset.state = "listed";
  }

  for (const f of faces) {
    f.addEventListener("click", async () => {
      if (busy || !chosen) return;
      busy = true;
      hideProblem();
      thanks.hidden = true;
      for (const x of faces) x.setAttribute("aria-disabled", "true");
      const token = card.token;
      const ev = chosen.ev;
      const r = await call("POST", "/api/v1/kiosk/evaluations", { event_kind: ev.event_kind, event_id: ev.event_id, level: Number(f.dataset.level) }, token);
      for (const x of faces) x.removeAttribute("aria-disabled");
      busy = false;
      if (token !== card.token) return;
      if (r.res && r.res.ok) {
        drop();
        thanks.textContent = `感谢您对“${ev.title}”的评价：${r.data.level_label}！`;
        thanks.hidden = false;
        thanks.focus();
        return;
      }
      const p = problemOf(r, titles);
      if (p && p.code === "already_rated") drop();
      showProblem(p);
    });
  }

  refresh();
  watchCard(refresh);
}
