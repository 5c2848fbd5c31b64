// 我的办件 (/kiosk/cases) and 自助申请 (/kiosk/apply/{matter}): with the
// citizen's ID card in the reader, the first lists their cases with the
// state, the deadline and the whole timeline in large type; the second
// starts a kiosk application for the matter (the e-certificates the
// citizen holds are attached at once, 免提交), shows its materials and
// submits it. The pre-check's answer lists every missing material at once.
// Both use the card session like 取号 and 预约签到; when the card is taken
// out the page forgets what it showed, and kiosk.js takes an untouched page
// back home.
import { call, hideProblem, problemOf, readCard, showProblem, watchCard } from "/static/kiosk-queue-view.js";

const $ = (id) => document.getElementById(id);

// titles head a refusal of the case API by its code.
const titles = {
  channel_not_offered: "该事项不能在自助终端申请",
  matter_retired: "该事项已停止办理",
  real_name_required: "请先刷身份证",
  case_state: "这件申请现在不能提交",
  guide_changed: "办事指南已更新",
  not_found: "没有找到这件申请",
  unauthorized: "请重新刷身份证",
};

const channels = { online: "小程序", kiosk: "自助终端", window: "窗口" };

// at writes a server time "2026-11-25T09:05:00+08:00" as the center's wall
// clock, whatever the kiosk's time zone.
function at(s) {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d:\d\d)/.exec(s || "");
  return m ? `${m[1]}年${Number(m[2])}月${Number(m[3])}日 ${m[4]}` : "";
}

// dayOf writes "2026-12-02" as 2026年12月2日.
function dayOf(s) {
  const m = /^(\d{4})-(\d\d)-(\d\d)/.exec(s || "");
  return m ? `${m[1]}年${Number(m[2])}月${Number(m[3])}日` : "";
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function greet(holder, rest) {
  return `${holder.name_masked}，您好：${rest}`;
}

// deadlineText says where a case stands against its time limit, in words
// (the colour only repeats them).
function deadlineText(k) {
  const c = k.clock;
  if (!c) {
    if (k.state === "submitted") return "等待受理，受理后开始计算办理期限";
    if (k.state === "draft") return "尚未提交";
    if (k.state === "returned") return "尚未受理：按一次告知补齐材料、重新提交并受理后，开始计算办理期限";
    return "";
  }
  let t = `办理期限：${c.level_label}，承诺 ${dayOf(c.due_day)}前办结`;
  if (c.paused) t += "（目前暂停计时）";
  return t;
}

const levelClass = { green: "ok", yellow: "warn", red: "bad" };

const mine = $("mycases");
if (mine) initMine(mine);
const apply = $("apply");
if (apply) initApply(apply);

function initMine(root) {
  const state = $("card-state");
  const needCard = $("need-card");
  const list = $("case-list");
  const empty = $("cases-empty");
  const more = $("cases-more");
  let card = { token: "", holder: null };
  let next = "";

  function clear() {
    list.replaceChildren();
    list.hidden = true;
    empty.hidden = true;
    more.hidden = true;
    next = "";
  }

  function caseCard(k) {
    const li = el("li", "case-card");
    li.dataset.number = k.number;
    li.dataset.state = k.state;
    li.append(el("h2", "case-name", k.matter_name));
    const meta = el("p", "case-meta");
    meta.append(el("span", "case-state", k.state_label), ` 办件编号 ${k.number} · ${channels[k.channel] || k.channel}申请`);
    li.append(meta);
    const dl = deadlineText(k);
    if (dl) {
      const p = el("p", "case-deadline " + (k.clock ? levelClass[k.clock.level] || "warn" : "none"), dl);
      li.append(p);
    }
    if (k.notice) {
      const box = el("div", "case-notice");
      box.append(el("p", "case-notice-title", `需要补正（一次告知，共 ${k.notice.problems.length} 项）：`));
      const ol = el("ol");
      for (const p of k.notice.problems) ol.append(el("li", "", `${p.name || "其他问题"}：${p.reason}`));
      box.append(ol, el("p", "case-notice-how", "请在微信小程序“我的办件”中一次补齐后重新提交，或到综合受理窗口办理。"));
      li.append(box);
    }
    const d = k.decision || k.rejection;
    if (d && (d.reason || d.legal_basis)) {
      li.append(el("p", "case-decision", [d.reason && `理由：${d.reason}`, d.legal_basis && `依据：${d.legal_basis}`].filter(Boolean).join("；")));
    }
    const tl = k.timeline || [];
    if (tl.length) {
      li.append(el("h3", "case-progress", "办理进度"));
      const ol = el("ol", "timeline");
      for (const e of tl) {
        const item = el("li", "timeline-item");
        item.append(el("span", "timeline-time", at(e.at)), el("span", "timeline-office", e.office), el("span", "timeline-note", e.note || e.state_label));
        ol.append(item);
      }
      li.append(ol);
    }
    if (k.state === "draft" && k.channel === "kiosk") {
      const p = el("p", "case-links");
      const a = el("a", "button primary", "继续申请");
      a.href = `/kiosk/apply/${encodeURIComponent(k.matter)}?case=${encodeURIComponent(k.id)}`;
      p.append(a);
      li.append(p);
    }
    return li;
  }

  async function load(cursor) {
    const path = "/api/v1/kiosk/cases" + (cursor ? "?cursor=" + encodeURIComponent(cursor) : "");
    const token = card.token;
    const r = await call("GET", path, undefined, token);
    if (token !== card.token) return; // another card meanwhile
    if (!(r.res && r.res.ok && r.data)) {
      const p = problemOf(r, titles);
      if (p.code === "unauthorized") {
        card = { token: card.token, holder: null, stale: true };
        show();
        return;
      }
      showProblem(p);
      return;
    }
    const items = r.data.items || [];
    list.append(...items.map(caseCard));
    list.hidden = list.children.length === 0;
    empty.hidden = list.children.length > 0;
    next = r.data.next || "";
    more.hidden = !next;
  }

  function show() {
    root.dataset.state = card.holder ? "card" : "need-card";
    needCard.hidden = Boolean(card.holder);
    if (!card.holder) {
      clear();
      state.textContent = card.stale ? "身份证信息已失效，请重新刷卡。" : "没有读取到身份证。";
    }
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
    show();
    if (!card.holder) return;
    state.textContent = greet(card.holder, "以下是您的办件和办理进度。");
    await load("");
    root.dataset.state = "listed";
  }

  more.addEventListener("click", async () => {
    if (!next || more.getAttribute("aria-disabled") === "true") return;
    more.setAttribute("aria-disabled", "true");
    const first = list.children.length;
    try {
      await load(next);
      const added = list.children[first];
      if (added) added.scrollIntoView({ block: "start" });
    } finally {
      more.removeAttribute("aria-disabled");
    }
  });

  refresh();
  watchCard(refresh);
}

function initApply(root) {
  const matter = root.dataset.matter;
  const draft = new URLSearchParams(location.search).get("case") || "";
  const state = $("card-state");
  const parts = { "need-card": $("need-card"), start: $("apply-start"), case: $("apply-case"), done: $("apply-done") };
  const go = $("apply-go");
  const submit = $("apply-submit");
  const missing = $("apply-missing");
  let card = { token: "", holder: null };
  // kase is the application on screen, for the card it was made with.
  let kase = null;
  let busy = false;

  function showOnly(name) {
    root.dataset.state = name;
    for (const [k, e] of Object.entries(parts)) e.hidden = k !== name;
  }

  function materialLine(m, short) {
    const li = el("li", "apply-material");
    li.dataset.index = String(m.index);
    li.dataset.status = m.status;
    li.dataset.source = m.source || "";
    li.append(el("span", "apply-name", m.name));
    let text;
    let kind;
    if (m.status === "provided" && m.source === "ecert") {
      text = `免提交：已调取电子证照（${m.ecert ? m.ecert.type : "电子证照"}）`;
      kind = "ok";
    } else if (m.status === "provided") {
      text = `已提供：${m.source_label || "已提供"}`;
      kind = "ok";
    } else if (m.required && short) {
      text = "缺少，须补齐后才能提交";
      kind = "bad";
    } else if (m.required) {
      text = m.pendable ? "需要提供（可容缺受理）" : "需要提供";
      kind = "warn";
    } else {
      text = "视情况提供，可不提供";
      kind = "none";
    }
    li.append(el("span", "apply-status " + kind, text));
    return li;
  }

  function showCase(k, shortOf = new Set()) {
    kase = k;
    const number = $("apply-number");
    number.textContent = `办件编号 ${k.number}（${k.state_label}）`;
    number.dataset.number = k.number;
    $("apply-materials").replaceChildren(...k.materials.map((m) => materialLine(m, shortOf.has(m.index))));
    showOnly("case");
  }

  function showDone(k) {
    kase = k;
    $("done-number").textContent = k.number;
    $("done-code").textContent = k.query_code || "";
    $("done-state").textContent = k.state_label;
    $("done-saved").textContent = k.saved ? `${k.saved} 项` : "无";
    showOnly("done");
    parts.done.focus({ preventScroll: true });
    parts.done.scrollIntoView({ block: "start" });
  }

  // refused shows a refusal of the API, or asks for the card again when
  // its session is over.
  function refused(r) {
    const p = problemOf(r, titles);
    if (p.code === "unauthorized") {
      card = { token: card.token, holder: null, stale: true };
      kase = null;
      state.textContent = "身份证信息已失效，请重新刷卡。";
      showOnly("need-card");
      return;
    }
    showProblem(p);
  }

  async function refresh() {
    const before = card.token;
    card = await readCard();
    hideProblem();
    if (card.problem) {
      state.textContent = "";
      for (const e of Object.values(parts)) e.hidden = true;
      root.dataset.state = "refused";
      showProblem(card.problem);
      return;
    }
    if (!card.holder) {
      kase = null;
      missing.hidden = true;
      state.textContent = card.stale ? "身份证信息已失效，请重新刷卡。" : "没有读取到身份证。";
      showOnly("need-card");
      return;
    }
    state.textContent = greet(card.holder, "请核对材料后提交申请。");
    if (kase && before === card.token) return;
    kase = null;
    missing.hidden = true;
    if (draft) {
      const r = await call("GET", `/api/v1/kiosk/cases/${encodeURIComponent(draft)}`, undefined, card.token);
      if (r.res && r.res.ok && r.data && r.data.matter === matter) {
        if (r.data.state === "draft" || r.data.state === "returned") showCase(r.data);
        else showDone(r.data);
        return;
      }
      if (r.res && !r.res.ok) {
        refused(r);
        if (card.holder) showOnly("start");
        return;
      }
    }
    showOnly("start");
  }

  async function run(button, send) {
    if (busy) return;
    busy = true;
    button.setAttribute("aria-disabled", "true");
    root.setAttribute("aria-busy", "true");
    hideProblem();
    try {
      await send();
    } finally {
      busy = false;
      button.removeAttribute("aria-disabled");
      root.removeAttribute("aria-busy");
    }
  }

  go.addEventListener("click", () =>
    run(go, async () => {
      if (!card.holder) {
        showOnly("need-card");
        return;
      }
      const token = card.token;
      const r = await call("POST", "/api/v1/kiosk/cases", { matter }, token);
      if (token !== card.token) return;
      if (r.res && r.res.status === 201 && r.data) {
        missing.hidden = true;
        showCase(r.data);
        parts.case.focus({ preventScroll: true });
        parts.case.scrollIntoView({ block: "start" });
        return;
      }
      refused(r);
    }),
  );

  submit.addEventListener("click", () =>
    run(submit, async () => {
      if (!kase || !card.holder) return;
      const token = card.token;
      const r = await call("POST", `/api/v1/kiosk/cases/${encodeURIComponent(kase.id)}/submit`, undefined, token);
      if (token !== card.token) return;
      if (r.res && r.res.ok && r.data) {
        missing.hidden = true;
        showDone(r.data);
        return;
      }
      const p = r.data || {};
      if (p.code === "materials_missing") {
        // Every missing material at once, by name, in large type.
        const short = new Set();
        const names = [];
        for (const fe of p.errors || []) {
          const m = /^materials\[(\d+)\]$/.exec(fe.field || "");
          const mat = m ? kase.materials[Number(m[1])] : null;
          if (mat) {
            short.add(mat.index);
            names.push(mat.name);
          } else {
            names.push(fe.message);
          }
        }
        showCase(kase, short);
        $("apply-missing-title").textContent = `还缺少 ${names.length} 项必需材料，暂不能提交：`;
        $("apply-missing-list").replaceChildren(...names.map((n) => el("li", "", n)));
        missing.hidden = false;
        missing.focus({ preventScroll: true });
        missing.scrollIntoView({ block: "nearest" });
        return;
      }
      if (p.code === "guide_changed") {
        // The draft now follows the new guide: show it again to be checked.
        const again = await call("GET", `/api/v1/kiosk/cases/${encodeURIComponent(kase.id)}`, undefined, token);
        if (again.res && again.res.ok && again.data) showCase(again.data);
      }
      refused(r);
    }),
  );

  refresh();
  watchCard(refresh);
}
