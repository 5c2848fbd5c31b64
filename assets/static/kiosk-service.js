// 我要咨询 (/kiosk/consult) and 我要投诉 (/kiosk/complain): with the
// citizen's ID card in the reader, a large text box (the common questions
// fill it with one touch) and one large button send the question
// (POST /api/v1/kiosk/consultations) or the complaint (POST
// /api/v1/kiosk/complaints) with the card session. A refusal shows the
// server's Chinese detail and keeps the text; when the card is taken out
// the page forgets what was typed, and kiosk.js takes an untouched page
// back home.
import { call, hideProblem, problemOf, readCard, showProblem, watchCard } from "/static/kiosk-queue-view.js";

const $ = (id) => document.getElementById(id);

const titles = {
  real_name_required: "请先刷身份证",
  unauthorized: "请重新刷身份证",
  invalid_input: "请检查填写的内容",
  not_found: "没有找到这个事项",
};

// dayOf writes "2026-12-02" as 2026年12月2日.
function dayOf(s) {
  const m = /^(\d{4})-(\d\d)-(\d\d)/.exec(s || "");
  return m ? `${m[1]}年${Number(m[2])}月${Number(m[3])}日` : "";
}

const root = $("service");
if (root) init(root);

function init(root) {
  const consult = root.dataset.kind === "consult";
  const state = $("card-state");
  const needCard = $("need-card");
  const form = $("service-form");
  const text = $("service-text");
  const submit = $("service-submit");
  const doneBox = $("service-done");
  let card = { token: "", holder: null };
  let busy = false;

  const mine = $("my-threads");

  function showOnly(name) {
    root.dataset.state = name;
    needCard.hidden = name !== "need-card";
    form.hidden = name !== "form";
    doneBox.hidden = name !== "done";
    if (mine && name !== "form" && name !== "done") {
      mine.hidden = true;
      $("thread-list").replaceChildren();
    }
  }

  // loadThreads lists the card holder's consultations with the replies.
  async function loadThreads() {
    if (!mine) return;
    const token = card.token;
    const r = await call("GET", "/api/v1/kiosk/consultations", undefined, token);
    if (token !== card.token || !(r.res && r.res.ok && r.data)) return;
    const list = $("thread-list");
    list.replaceChildren();
    for (const t of r.data.items || []) {
      const li = document.createElement("li");
      li.className = "case-card thread-card";
      li.dataset.id = t.id;
      const h = document.createElement("h3");
      h.className = "case-name";
      h.textContent = `${t.matter_name || "一般咨询"}（${t.state_label}）`;
      li.append(h);
      for (const m of t.messages) {
        if (m.rejected) continue;
        const p = document.createElement("p");
        p.className = m.from === "staff" ? "thread-reply" : "thread-question";
        p.textContent = `${m.from === "staff" ? "中心答复" : "我问"}：${m.text}${m.held ? "（审核中）" : ""}`;
        li.append(p);
      }
      list.append(li);
    }
    $("threads-empty").hidden = list.children.length > 0;
    mine.hidden = false;
  }

  async function refresh() {
    card = await readCard();
    hideProblem();
    text.value = "";
    if (card.problem) {
      showOnly("refused");
      state.textContent = "";
      showProblem(card.problem);
      return;
    }
    if (!card.holder) {
      showOnly("need-card");
      state.textContent = card.stale ? "身份证信息已失效，请重新刷卡。" : "没有读取到身份证。";
      return;
    }
    state.textContent = `${card.holder.name_masked}，您好：${consult ? "请写下或选择您的问题。" : "请写下您要投诉的事情。"}`;
    showOnly("form");
    loadThreads();
  }

  for (const b of root.querySelectorAll("button.quick")) {
    b.addEventListener("click", () => {
      text.value = b.dataset.text;
      text.focus();
    });
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (busy) return;
    busy = true;
    submit.setAttribute("aria-disabled", "true");
    hideProblem();
    const body = { center: root.dataset.center, text: text.value };
    if (root.dataset.matter) body.matter = root.dataset.matter;
    const token = card.token;
    try {
      const r = await call("POST", consult ? "/api/v1/kiosk/consultations" : "/api/v1/kiosk/complaints", body, token);
      if (token !== card.token) return;
      if (!(r.res && r.res.ok && r.data)) {
        showProblem(problemOf(r, titles));
        return;
      }
      const due = consult ? r.data.reply_due : r.data.answer_due;
      const when = due && due.due_day ? `${dayOf(due.due_day)}前` : "尽快";
      $("service-done-text").textContent = consult
        ? `工作人员将在${when}答复。答复后请在微信小程序“我的咨询”中查看，或在自助终端刷身份证查看。`
        : `投诉已转给相关板块处理，工作人员将在${when}答复您。`;
      text.value = "";
      showOnly("done");
      doneBox.focus();
      loadThreads();
    } finally {
      busy = false;
      submit.removeAttribute("aria-disabled");
    }
  });

  $("service-again").addEventListener("click", () => {
    hideProblem();
    showOnly("form");
    text.focus();
  });

  refresh();
  watchCard(refresh);
}
