// 咨询与投诉 (/console/service): the sector's consultations by first-reply
// deadline (GET /api/v1/staff/consultations) and the open complaints (GET
// /api/v1/staff/complaints). Opening one shows its panel: for a
// consultation the messages, with 放行/驳回 on a held one, the reply form
// and 发布为常见问题 for a staff reply; for a complaint 认领, the answer
// form and, for supervisors (rendered by the server), the decision. A
// refused action shows the server's Chinese detail in the panel's alert
// and keeps everything typed; a successful one redraws the panel from what
// the server answers with.

import { api, sessionEnded, el, cell, badge, timeText } from "/static/console-api.js";

const $ = (id) => document.getElementById(id);
const root = $("service");

const levelKinds = { green: "ok", yellow: "warn", red: "bad" };

function dueCell(due) {
  if (!due) return cell("—");
  const wrap = el("span", "deadline");
  wrap.append(badge(due.level_label || due.level, levelKinds[due.level] || "warn"), " ", `${due.due_day} 前`);
  return cell(wrap);
}

function short(text, n) {
  return text.length > n ? text.slice(0, n) + "…" : text;
}

const sectorNames = new Map(
  [...document.querySelectorAll("#sector-names li")].map((li) => [li.dataset.code, li.dataset.name]),
);

function sectorName(code) {
  return sectorNames.get(code) || code;
}

// panel helpers: one alert and one status line per panel.
function say(prefix, r) {
  const box = $(prefix + "-message");
  const done = $(prefix + "-done");
  done.hidden = true;
  // A field error adds what to fix to the general detail.
  box.textContent = [r.problem.detail, ...(r.problem.errors || []).map((e) => e.message)].filter(Boolean).join(" ");
  box.hidden = false;
  box.focus();
}

function done(prefix, text) {
  $(prefix + "-message").hidden = true;
  const p = $(prefix + "-done");
  p.textContent = text;
  p.hidden = false;
}

function clear(prefix) {
  $(prefix + "-message").hidden = true;
  $(prefix + "-done").hidden = true;
}

async function act(prefix, method, path, body, button) {
  if (button) button.disabled = true;
  const r = await api(method, path, body);
  if (button) button.disabled = false;
  if (!r.ok) {
    if (!sessionEnded(r)) say(prefix, r);
    return null;
  }
  return r.data;
}

// ---- 咨询 ----

let thread = null;

async function loadThreads() {
  const status = $("consult-status");
  const r = await api("GET", "/api/v1/staff/consultations");
  if (!r.ok) {
    if (!sessionEnded(r)) status.textContent = r.problem.detail;
    return;
  }
  const items = r.data.items || [];
  const table = $("consult-list");
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const t of items) {
    const tr = el("tr");
    tr.dataset.id = t.id;
    const first = (t.messages.find((m) => m.from === "citizen") || { text: "" }).text;
    const open = el("button", "link-button", short(first, 30) || "（无内容）");
    open.type = "button";
    open.dataset.open = "";
    open.addEventListener("click", () => openThread(t.id));
    const held = t.messages.some((m) => m.held && !m.rejected);
    const state = el("span", "", t.state_label);
    if (held) state.append(" ", badge("有待审核留言", "warn"));
    tr.append(cell(open), cell(t.matter_name || "一般咨询"), cell(sectorName(t.sector)), cell(state), dueCell(t.reply_due));
    body.append(tr);
  }
  table.hidden = items.length === 0;
  status.textContent = items.length ? `共 ${items.length} 条咨询` : "暂无咨询";
}

function drawThread(t) {
  thread = t;
  const facts = $("thread-facts");
  facts.replaceChildren();
  const fact = (k, v) => {
    const d = el("div");
    const dd = el("dd");
    if (typeof v === "string") dd.textContent = v;
    else dd.append(v);
    d.append(el("dt", "", k), dd);
    facts.append(d);
  };
  fact("事项", t.matter_name || "一般咨询");
  fact("状态", t.state_label);
  if (t.reply_due) {
    const s = el("span");
    s.append(badge(t.reply_due.level_label, levelKinds[t.reply_due.level] || "warn"), " ", `${t.reply_due.due_day} 前答复`);
    fact("答复期限", s);
  }
  const list = $("thread-messages");
  list.replaceChildren();
  const select = $("faq-reply");
  const chosen = select.value;
  select.replaceChildren();
  for (const m of t.messages) {
    const li = el("li");
    li.dataset.n = String(m.n);
    const who = m.from === "staff" ? "工作人员答复" : "群众";
    const head = el("p", "", `${who}（${timeText(m.at)}）`);
    if (m.rejected) head.append(" ", badge("已驳回", "off"));
    else if (m.held) head.append(" ", badge("待审核", "warn"));
    li.append(head, el("p", "message-text", m.text));
    if (m.held && !m.rejected) {
      const group = el("div", "ticket-actions");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", `第 ${m.n + 1} 条留言的审核`);
      const release = el("button", "button small primary", "放行");
      release.type = "button";
      release.dataset.release = String(m.n);
      const reject = el("button", "button small danger", "驳回");
      reject.type = "button";
      reject.dataset.reject = String(m.n);
      release.addEventListener("click", () => review(m.n, true, release));
      reject.addEventListener("click", () => review(m.n, false, reject));
      group.append(release, reject);
      li.append(group);
    }
    list.append(li);
    if (m.from === "staff" && !m.held && !m.rejected) {
      const o = el("option", "", short(m.text, 40));
      o.value = String(m.n);
      select.append(o);
    }
  }
  if (chosen && [...select.options].some((o) => o.value === chosen)) select.value = chosen;
  $("faq-form").hidden = select.options.length === 0 || !t.matter;
  $("reply-form").hidden = t.state === "closed";
  $("thread").hidden = false;
}

async function openThread(id) {
  clear("thread");
  const r = await api("GET", "/api/v1/staff/consultations/" + encodeURIComponent(id));
  if (!r.ok) {
    if (!sessionEnded(r)) $("consult-status").textContent = r.problem.detail;
    return;
  }
  $("reply-text").value = "";
  $("faq-question").value = "";
  drawThread(r.data);
  $("thread").focus();
}

async function review(n, ok, button) {
  const t = await act("thread", "POST", `/api/v1/staff/consultations/${encodeURIComponent(thread.id)}/messages/${n}/${ok ? "release" : "reject"}`, undefined, button);
  if (!t) return;
  drawThread(t);
  done("thread", ok ? "留言已放行，群众可以看到。" : "留言已驳回，不会公开。");
  loadThreads();
}

async function reply(e) {
  e.preventDefault();
  const text = $("reply-text");
  const button = e.submitter || $("reply-form").querySelector("button");
  const t = await act("thread", "POST", `/api/v1/staff/consultations/${encodeURIComponent(thread.id)}/reply`, { text: text.value }, button);
  if (!t) return;
  text.value = "";
  drawThread(t);
  done("thread", "答复已发送。");
  loadThreads();
}

async function publish(e) {
  e.preventDefault();
  const button = e.submitter || $("faq-form").querySelector("button");
  const q = await act("thread", "POST", `/api/v1/staff/consultations/${encodeURIComponent(thread.id)}/faq`,
    { message: Number($("faq-reply").value), question: $("faq-question").value }, button);
  if (!q) return;
  $("faq-question").value = "";
  done("thread", `已发布为常见问题：${q.question}`);
}

// ---- 投诉 ----

const sources = { mp: "小程序", kiosk: "自助终端", hotline_12345: "12345热线" };
let complaint = null;

async function loadComplaints() {
  const status = $("complaint-status");
  const r = await api("GET", "/api/v1/staff/complaints");
  if (!r.ok) {
    if (!sessionEnded(r)) status.textContent = r.problem.detail;
    return;
  }
  const items = r.data.items || [];
  const table = $("complaint-list");
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const k of items) {
    const tr = el("tr");
    tr.dataset.id = k.id;
    const open = el("button", "link-button", short(k.text, 30));
    open.type = "button";
    open.dataset.open = "";
    open.addEventListener("click", () => openComplaint(k.id));
    tr.append(cell(open), cell(sources[k.source] || k.source), cell(sectorName(k.sector)), cell(k.state_label), dueCell(k.answer_due));
    body.append(tr);
  }
  table.hidden = items.length === 0;
  status.textContent = items.length ? `共 ${items.length} 件投诉` : "暂无待处理的投诉";
}

function drawComplaint(k) {
  complaint = k;
  const facts = $("complaint-facts");
  facts.replaceChildren();
  const fact = (name, v) => {
    const d = el("div");
    d.append(el("dt", "", name), el("dd", "", v));
    facts.append(d);
  };
  fact("投诉内容", k.text);
  fact("来源", sources[k.source] || k.source);
  fact("状态", k.state_label);
  if (k.answer_due) fact("答复期限", `${k.answer_due.level_label}，${k.answer_due.due_day} 前`);
  fact("承办人", k.handler ? "已认领" : "尚未认领");
  if (k.complainant) fact("投诉人", k.complainant);
  if (k.caller) fact("来电人", `${k.caller.name || ""} ${k.caller.phone || ""}`.trim());
  if (k.answer) fact("答复", k.answer);
  if (k.decision) fact("处理决定", k.decision);
  $("complaint-claim").hidden = Boolean(k.handler) || k.state === "closed";
  $("answer-form").hidden = k.state === "closed";
  const decide = $("decide-form");
  if (decide) decide.hidden = k.state === "closed";
  $("complaint").hidden = false;
}

async function openComplaint(id) {
  clear("complaint");
  const r = await api("GET", "/api/v1/staff/complaints/" + encodeURIComponent(id));
  if (!r.ok) {
    if (!sessionEnded(r)) $("complaint-status").textContent = r.problem.detail;
    return;
  }
  $("answer-text").value = "";
  if ($("decide-text")) $("decide-text").value = "";
  drawComplaint(r.data);
  $("complaint").focus();
}

async function complaintStep(e, step, body, what, field) {
  e.preventDefault();
  const button = e.submitter || e.currentTarget;
  const k = await act("complaint", "POST", `/api/v1/staff/complaints/${encodeURIComponent(complaint.id)}/${step}`, body, button);
  if (!k) return;
  if (field) field.value = "";
  drawComplaint(k);
  done("complaint", what);
  loadComplaints();
}

// ---- 录入 12345 热线投诉 ----

// clearFieldErrors takes the errors shown next to the hotline form's
// fields off, with their aria-invalid and aria-describedby.
function clearFieldErrors(form) {
  for (const p of form.querySelectorAll(".field-error")) {
    const owner = form.querySelector(`[aria-describedby~="${p.id}"]`);
    if (owner) {
      const rest = owner.getAttribute("aria-describedby").split(" ").filter((id) => id !== p.id);
      if (rest.length) owner.setAttribute("aria-describedby", rest.join(" "));
      else owner.removeAttribute("aria-describedby");
    }
    p.remove();
  }
  for (const c of form.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
  $(form.id + "-message").hidden = true;
}

// showFieldErrors puts each of the problem's errors next to the field it
// names and the detail (with errors of fields the form lacks) in the
// form's alert; focus goes to the only field at fault, else the alert.
function showFieldErrors(form, problem) {
  const loose = [];
  const fields = [];
  for (const fe of problem.errors || []) {
    const control = fe.field ? form.elements.namedItem(fe.field) : null;
    if (!control || control instanceof RadioNodeList) {
      loose.push(fe.message);
      continue;
    }
    const id = `${form.id}-${fe.field.replace(/[^A-Za-z0-9_-]/g, "-")}-error`;
    let p = $(id);
    if (p) {
      p.textContent += "；" + fe.message;
    } else {
      p = el("p", "field-error", fe.message);
      p.id = id;
      control.after(p);
      const ids = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      control.setAttribute("aria-describedby", [id, ...ids].join(" "));
    }
    control.setAttribute("aria-invalid", "true");
    if (!fields.includes(control)) fields.push(control);
  }
  const box = $(form.id + "-message");
  box.textContent = [problem.detail, ...loose].filter(Boolean).join(" ");
  box.hidden = false;
  if (fields.length === 1 && loose.length === 0) fields[0].focus();
  else box.focus();
}

async function enterHotline(e) {
  e.preventDefault();
  const form = e.currentTarget;
  const button = e.submitter || form.querySelector('button[type="submit"]');
  clearFieldErrors(form);
  $("hotline-done").hidden = true;
  const value = (name) => form.elements.namedItem(name).value.trim();
  const body = { caller_name: value("caller_name"), caller_phone: value("caller_phone"), case: value("case"), sector: value("sector"), text: value("text") };
  button.setAttribute("aria-disabled", "true");
  button.disabled = true;
  const r = await api("POST", "/api/v1/staff/complaints", body);
  button.disabled = false;
  button.removeAttribute("aria-disabled");
  if (!r.ok) {
    if (!sessionEnded(r)) showFieldErrors(form, r.problem);
    return;
  }
  form.reset();
  const done = $("hotline-done");
  done.textContent = `已录入，转“${sectorName(r.data.sector)}”办理。`;
  done.hidden = false;
  done.focus();
  loadComplaints();
}

if (root) {
  $("hotline-form").addEventListener("submit", enterHotline);
  $("consult-refresh").addEventListener("click", loadThreads);
  $("thread-close").addEventListener("click", () => {
    $("thread").hidden = true;
  });
  $("reply-form").addEventListener("submit", reply);
  $("faq-form").addEventListener("submit", publish);
  $("complaint-refresh").addEventListener("click", loadComplaints);
  $("complaint-close").addEventListener("click", () => {
    $("complaint").hidden = true;
  });
  $("complaint-claim").addEventListener("click", (e) => complaintStep(e, "claim", undefined, "已认领，由您承办。"));
  $("answer-form").addEventListener("submit", (e) =>
    complaintStep(e, "answer", { answer: $("answer-text").value }, "答复已提交。", $("answer-text")));
  const decide = $("decide-form");
  if (decide) {
    decide.addEventListener("submit", (e) =>
      complaintStep(e, "decide", { decision: $("decide-text").value }, "已作出处理决定，投诉办结。", $("decide-text")));
  }
  loadThreads();
  loadComplaints();
  setInterval(() => {
    loadThreads();
    loadComplaints();
  }, 30000);
}

// ---- 差评整改 ----

const rectStates = { verify: "待核实", rectify: "待整改", follow_up: "待回访", confirm: "待督办确认", closed: "已结案" };
const rectActions = {
  open: "生成任务",
  verify_founded: "核实属实",
  verify_unfounded: "核实不属实",
  rectify: "整改",
  follow_up: "回访",
  confirm_unfounded: "督办确认不属实",
  escalate: "超期督办",
  re_rate: "群众重新评价",
};
const rectSteps = { verify: ["verify", "提交核实结果"], rectify: ["rectify", "整改完成"], follow_up: ["follow-up", "回访完成"], confirm: ["confirm", "确认不属实并结案"] };
let task = null;

async function loadTasks() {
  if (!$("rect-list")) return;
  const status = $("rect-status");
  const r = await api("GET", "/api/v1/staff/rectifications");
  if (!r.ok) {
    if (!sessionEnded(r)) status.textContent = r.problem.detail;
    return;
  }
  const items = r.data.items || [];
  const table = $("rect-list");
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const k of items) {
    const tr = el("tr");
    tr.dataset.id = k.id;
    const open = el("button", "link-button", `整改任务（${timeText(k.created_at)}）`);
    open.type = "button";
    open.dataset.open = "";
    open.addEventListener("click", () => openTask(k.id));
    const state = el("span", "", rectStates[k.state] || k.state);
    if (k.escalated) state.append(" ", badge("已超期督办", "bad"));
    tr.append(cell(open), cell(sectorName(k.sector)), cell(state), cell(timeText(k.due_at)));
    body.append(tr);
  }
  table.hidden = items.length === 0;
  status.textContent = items.length ? `共 ${items.length} 项整改任务` : "暂无待办的整改任务";
}

function drawTask(k) {
  if (k.evaluation === undefined && task && task.evaluation) k.evaluation = task.evaluation;
  task = k;
  const facts = $("rect-facts");
  facts.replaceChildren();
  const fact = (name, v) => {
    const d = el("div");
    d.append(el("dt", "", name), el("dd", "", v));
    facts.append(d);
  };
  const ev = k.evaluation;
  if (ev) {
    fact("评价", ev.level_label);
    if (ev.comment) fact("群众意见", ev.comment);
    if (ev.tags && ev.tags.length) fact("问题", ev.tags.join("、"));
  }
  fact("板块", sectorName(k.sector));
  fact("环节", rectStates[k.state] || k.state);
  if (k.founded !== undefined) fact("核实结果", k.founded ? "属实" : "不属实");
  fact("整改期限", timeText(k.due_at));
  if (k.re_rate) fact("回访后重新评价", `${k.re_rate} 分`);
  const steps = $("rect-steps");
  steps.replaceChildren();
  for (const s of k.steps) {
    steps.append(el("li", "", `${timeText(s.at)} ${rectActions[s.action] || s.action}${s.note ? "：" + s.note : ""}`));
  }
  const step = rectSteps[k.state];
  const supervisor = root.dataset.supervisor === "true";
  const waiting = k.state === "confirm" && !supervisor;
  $("rect-form").hidden = !step;
  $("rect-founded").hidden = k.state !== "verify";
  $("rect-wait").hidden = !waiting;
  $("rect-submit").hidden = waiting;
  if (step) $("rect-submit").textContent = step[1];
  $("rect").hidden = false;
}

async function openTask(id) {
  clear("rect");
  const r = await api("GET", "/api/v1/staff/rectifications/" + encodeURIComponent(id));
  if (!r.ok) {
    if (!sessionEnded(r)) $("rect-status").textContent = r.problem.detail;
    return;
  }
  task = null;
  $("rect-note").value = "";
  for (const i of document.querySelectorAll('#rect-founded input')) i.checked = false;
  drawTask(r.data);
  $("rect").focus();
}

async function rectify(e) {
  e.preventDefault();
  const step = rectSteps[task.state];
  if (!step) return;
  const body = { note: $("rect-note").value };
  if (task.state === "verify") {
    const chosen = document.querySelector('#rect-founded input:checked');
    if (chosen) body.founded = chosen.value === "true";
  }
  const k = await act("rect", "POST", `/api/v1/staff/rectifications/${encodeURIComponent(task.id)}/${step[0]}`, body, $("rect-submit"));
  if (!k) return;
  $("rect-note").value = "";
  drawTask(k);
  done("rect", `${step[1]}，现在：${rectStates[k.state] || k.state}。`);
  loadTasks();
}

if (root && $("rect-form")) {
  $("rect-refresh").addEventListener("click", loadTasks);
  $("rect-close").addEventListener("click", () => {
    $("rect").hidden = true;
  });
  $("rect-form").addEventListener("submit", rectify);
  loadTasks();
  setInterval(loadTasks, 30000);
}
