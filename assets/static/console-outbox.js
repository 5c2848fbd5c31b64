// 通知发送失败 (/console/outbox): the outbox's dead letters (GET
// /api/v1/staff/outbox/failed), newest first, each with 重新发送 (POST
// /api/v1/staff/outbox/retry), which queues the message again to be sent
// at once. A refusal shows the server's Chinese detail in the alert; a
// retry redraws the list from the server.

import { api, sessionEnded, waitText, el, cell, timeText } from "/static/console-api.js";

const $ = (id) => document.getElementById(id);

const kindNames = {
  queue_call: "叫号",
  queue_turn_soon: "即将到号",
  appointment_reminder: "预约提醒",
  appointment_cancelled: "预约取消",
  case_status: "办件进度",
  parcel_status: "寄送进度",
  delivery_code: "签收码",
  review_invite: "评价邀请",
  consult_reply: "咨询答复",
  complaint_status: "投诉处理",
};

function show(id, text) {
  const e = $(id);
  e.textContent = text;
  e.hidden = !text;
  return e;
}

function refused(r) {
  if (sessionEnded(r)) return;
  const wait = r.retryAfter ? waitText(r.retryAfter) : "";
  show("outbox-done", "");
  show("outbox-message", r.problem.detail + (wait ? " " + wait : "")).focus();
}

async function load() {
  const status = $("outbox-status");
  status.textContent = "正在加载…";
  const r = await api("GET", "/api/v1/staff/outbox/failed");
  if (!r.ok) {
    status.textContent = "加载失败。";
    refused(r);
    return;
  }
  const items = r.data.items || [];
  const table = $("outbox-list");
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const m of items) {
    const tr = el("tr");
    tr.dataset.id = m.id;
    const kind = kindNames[m.kind] || m.kind;
    const button = el("button", "button small", "重新发送");
    button.type = "button";
    button.dataset.retry = m.id;
    button.setAttribute("aria-label", `重新发送${kind}通知（${m.to}）`);
    tr.append(cell(kind), cell(m.to), cell(String(m.attempts)), cell(m.last_error || "—"), cell(timeText(m.created_at)), cell(button));
    body.append(tr);
  }
  table.hidden = items.length === 0;
  status.textContent = items.length === 0 ? "没有发送失败的通知。" : `共 ${items.length} 条发送失败的通知。`;
}

async function retry(id) {
  const r = await api("POST", "/api/v1/staff/outbox/retry", { id });
  if (!r.ok) {
    refused(r);
    return;
  }
  show("outbox-message", "");
  await load();
  show("outbox-done", "通知已重新排队，正在发送。").focus();
}

$("outbox-list").addEventListener("click", (ev) => {
  const b = ev.target.closest("button[data-retry]");
  if (b) retry(b.dataset.retry);
});
$("outbox-refresh").addEventListener("click", () => {
  show("outbox-done", "");
  show("outbox-message", "");
  load();
});
load();
