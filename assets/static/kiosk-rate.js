// 服务评价 (/kiosk/rate): with the citizen's ID card in the reader, the
// card holder's concluded cases (GET /api/v1/kiosk/cases, 已办结 and 不予
// 许可) are offered as large choices; the chosen one is rated with the
// evaluation pad's five large faces and their words (POST
// /api/v1/kiosk/evaluations with the card session). A case already rated
// is refused by the server (already_rated) and the page says so. Taking
// the card out clears the page.
import { call, hideProblem, problemOf, readCard, showProblem, watchCard } from "/static/kiosk-queue-view.js";

const $ = (id) => document.getElementById(id);

const titles = {
  already_rated: "这件办件已经评价过了，谢谢您",
  event_not_finished: "办理尚未完成，完成后再评价",
  not_your_event: "只能评价本人的办件",
  unauthorized: "请重新刷身份证",
};

const finished = new Set(["approved", "denied"]);

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

  function choose(k, button) {
    chosen = k;
    for (const b of list.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b === button));
    $("rate-event-name").textContent = `“${k.matter_name}”`;
    thanks.hidden = true;
    hideProblem();
    facesBox.hidden = false;
    facesBox.scrollIntoView({ block: "nearest" });
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
    state.textContent = `${card.holder.name_masked}，您好：请选择要评价的办件。`;
    const token = card.token;
    const r = await call("GET", "/api/v1/kiosk/cases", undefined, token);
    if (token !== card.token) return;
    if (!(r.res && r.res.ok && r.data)) {
      showProblem(problemOf(r, titles));
      return;
    }
    const done = (r.data.items || []).filter((k) => finished.has(k.state)).slice(0, 5);
    for (const k of done) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "button rate-event";
      b.dataset.id = k.id;
      b.setAttribute("aria-pressed", "false");
      b.textContent = `${k.matter_name}（${k.state_label}，办件编号 ${k.number}）`;
      b.addEventListener("click", () => choose(k, b));
      list.append(b);
    }
    events.hidden = done.length === 0;
    empty.hidden = done.length > 0;
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
      const r = await call("POST", "/api/v1/kiosk/evaluations", { event_kind: "case", event_id: chosen.id, level: Number(f.dataset.level) }, token);
      for (const x of faces) x.removeAttribute("aria-disabled");
      busy = false;
      if (token !== card.token) return;
      if (r.res && r.res.ok) {
        thanks.textContent = `感谢您的评价：${r.data.level_label}！`;
        thanks.hidden = false;
        thanks.focus();
        return;
      }
      showProblem(problemOf(r, titles));
    });
  }

  refresh();
  watchCard(refresh);
}
