// Staff console behaviour: the forms of the login and home pages talk to
// the staff JSON API (/api/v1/staff/). The session cookie is HttpOnly; every
// change echoes the banhao_csrf cookie in the X-CSRF-Token header. Errors
// come back as problem+json: the detail goes to the form's alert, each
// field error next to its field.

import { api, sessionEnded, waitText } from "/static/console-api.js";

const loginForm = document.getElementById("login-form");
const passwordForm = document.getElementById("password-form");
const createForm = document.getElementById("create-form");
const logoutButton = document.getElementById("logout");
const accounts = document.getElementById("accounts");

// fieldParts finds what shows a field's error: the control to focus, the
// element the error describes, and where the error text goes.
function fieldParts(form, name) {
  const el = form.elements.namedItem(name);
  if (!el) return null;
  if (el instanceof RadioNodeList) {
    const group = el[0].closest("fieldset");
    return { focus: el[0], described: group || el[0], after: group ? group.lastElementChild : el[el.length - 1] };
  }
  if (el.type === "hidden" || el.hidden) return null;
  return { focus: el, described: el, after: el };
}

function clearErrors(form) {
  for (const p of form.querySelectorAll(".field-error")) {
    const owner = document.querySelector(`[aria-describedby~="${p.id}"]`);
    if (owner) {
      const rest = owner.getAttribute("aria-describedby").split(" ").filter((id) => id !== p.id);
      if (rest.length) owner.setAttribute("aria-describedby", rest.join(" "));
      else owner.removeAttribute("aria-describedby");
    }
    p.remove();
  }
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const box of form.querySelectorAll(".message")) {
    box.hidden = true;
    box.textContent = "";
  }
}

// showErrors puts the problem's detail in the form's alert and every field
// error next to its field, then moves focus: to the first field in error,
// or to the alert when no field is to blame.
function showErrors(form, problem, retryAfter) {
  const box = document.getElementById(form.id + "-message");
  const loose = [];
  let first = null;
  for (const fe of problem.errors || []) {
    const parts = fieldParts(form, fe.field);
    if (!parts) {
      loose.push(fe.message);
      continue;
    }
    const id = `${form.id}-${fe.field}-error`;
    let p = document.getElementById(id);
    if (!p) {
      p = document.createElement("p");
      p.id = id;
      p.className = "field-error";
      parts.after.after(p);
      const ids = (parts.described.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      parts.described.setAttribute("aria-describedby", [id, ...ids].join(" "));
      p.textContent = fe.message;
    } else {
      p.textContent += "；" + fe.message;
    }
    parts.focus.setAttribute("aria-invalid", "true");
    first = first || parts.focus;
  }
  const text = [problem.detail, ...loose, waitText(retryAfter)].filter(Boolean).join(" ");
  box.textContent = text;
  box.hidden = false;
  (first || box).focus();
}

// submitting runs send for a form at most once at a time, with its errors
// cleared first and its submit button disabled meanwhile.
function onSubmit(form, send) {
  let busy = false;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (busy) return;
    busy = true;
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    clearErrors(form);
    try {
      await send();
    } finally {
      busy = false;
      button.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });
}

if (loginForm) {
  onSubmit(loginForm, async () => {
    const f = loginForm.elements;
    const r = await api("POST", "/api/v1/staff/login", {
      username: f.username.value.trim(),
      password: f.password.value,
    });
    if (r.ok) {
      location.assign("/console/");
      return;
    }
    // A wrong password is typed again from scratch; the username stays.
    if (r.status === 401 || r.status === 429) f.password.value = "";
    showErrors(loginForm, r.problem, r.retryAfter);
  });
}

if (logoutButton) {
  logoutButton.addEventListener("click", async () => {
    logoutButton.disabled = true;
    const r = await api("POST", "/api/v1/staff/logout");
    if (r.ok || r.status === 401) {
      location.assign("/console/login?reason=logout");
      return;
    }
    logoutButton.disabled = false;
    alertPage(r.problem.detail);
  });
}

// alertPage shows an error that belongs to no form at the top of the page.
function alertPage(text) {
  let box = document.getElementById("page-message");
  if (!box) {
    box = document.createElement("div");
    box.id = "page-message";
    box.className = "message error";
    box.setAttribute("role", "alert");
    box.tabIndex = -1;
    document.getElementById("main").prepend(box);
  }
  box.textContent = text;
  box.focus();
}

if (passwordForm) {
  onSubmit(passwordForm, async () => {
    const f = passwordForm.elements;
    if (f.new_password.value !== f.new_password_confirm.value) {
      showErrors(passwordForm, {
        detail: "输入有误，请检查后重试",
        errors: [{ field: "new_password_confirm", message: "两次输入的新密码不一致" }],
      });
      return;
    }
    const r = await api("POST", "/api/v1/staff/password", {
      old_password: f.old_password.value,
      new_password: f.new_password.value,
    });
    if (r.ok) {
      location.assign("/console/login?reason=password");
      return;
    }
    if (sessionEnded(r)) return;
    showErrors(passwordForm, r.problem, r.retryAfter);
  });
}

// sectorNames maps the center's sector codes to names, from the list the
// page shows administrators.
const sectorNames = new Map(
  [...document.querySelectorAll("#sector-codes li")].map((li) => [li.dataset.code, li.dataset.name]),
);

// parseSectors reads the comma list of the create form: names or codes,
// separated by ASCII or Chinese commas, enumeration commas or spaces.
function parseSectors(text) {
  const codes = [];
  const unknown = [];
  const byName = new Map([...sectorNames].map(([code, name]) => [name, code]));
  for (const part of text.split(/[,，、;；\s]+/)) {
    if (!part) continue;
    const code = sectorNames.has(part) ? part : byName.get(part);
    if (code) {
      if (!codes.includes(code)) codes.push(code);
    } else if (sectorNames.size > 0) {
      unknown.push(part);
    } else {
      codes.push(part);
    }
  }
  return { codes, unknown };
}

// staffNames maps account IDs to "name（username）" for the audit log: the
// page lists the center's accounts to administrators and supervisors, and
// the account list adds the ones created since.
const staffNames = new Map(
  [...document.querySelectorAll("#staff-names li")].map((li) => [li.dataset.id, `${li.dataset.name}（${li.dataset.username}）`]),
);

// kioskNames maps kiosk IDs to where they stand, from the kiosk list.
const kioskNames = new Map();

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

async function loadAccounts() {
  const status = document.getElementById("accounts-status");
  const table = document.getElementById("accounts-table");
  const r = await api("GET", "/api/v1/staff/accounts");
  if (!r.ok) {
    if (sessionEnded(r)) return;
    status.textContent = "账号列表加载失败：" + r.problem.detail;
    status.classList.add("error-text");
    return;
  }
  const items = r.data.items || [];
  const rows = items.map((st) => {
    const tr = document.createElement("tr");
    tr.dataset.username = st.username;
    staffNames.set(st.id, `${st.name}（${st.username}）`);
    // A courier works for a delivery company, not in the center's sectors.
    const courier = st.roles.includes("courier");
    let sectors = st.sectors.length ? st.sectors.map((c) => sectorNames.get(c) || c).join("、") : "全部板块";
    if (courier) sectors = "—";
    tr.append(
      cell(st.username),
      cell(st.name),
      cell(st.role_labels.join("、")),
      cell(sectors),
      cell(courier ? st.company || "" : "—"),
      cell(st.disabled ? "已停用" : "正常"),
    );
    return tr;
  });
  table.tBodies[0].replaceChildren(...rows);
  table.hidden = false;
  status.classList.remove("error-text");
  status.textContent = `共 ${items.length} 个账号`;
}

if (createForm && accounts) {
  loadAccounts();
  onSubmit(createForm, async () => {
    const f = createForm.elements;
    const roles = [...createForm.querySelectorAll('input[name="roles"]:checked')].map((c) => c.value);
    const sectors = parseSectors(f.sectors.value);
    if (sectors.unknown.length) {
      showErrors(createForm, {
        detail: "输入有误，请检查后重试",
        errors: [{ field: "sectors", message: `本中心没有这些板块：${sectors.unknown.join("、")}` }],
      });
      return;
    }
    const r = await api("POST", "/api/v1/staff/accounts", {
      username: f.username.value.trim(),
      name: f.name.value.trim(),
      roles,
      sectors: sectors.codes,
      password: f.password.value,
    });
    if (!r.ok) {
      if (sessionEnded(r)) return;
      showErrors(createForm, r.problem, r.retryAfter);
      return;
    }
    createForm.reset();
    const done = document.getElementById("create-form-done");
    done.textContent = `已创建账号 ${r.data.username}（${r.data.name}）。请将初始密码当面告知本人。`;
    done.hidden = false;
    done.focus();
    await loadAccounts();
    loadAudit();
  });
}

// button makes a plain button.
function button(text, className) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = className;
  b.textContent = text;
  return b;
}

// badge is a table cell with a coloured status word: kind is ok, warn, bad
// or off.
function badge(text, kind) {
  const td = document.createElement("td");
  const span = document.createElement("span");
  span.className = "badge " + kind;
  span.textContent = text;
  td.append(span);
  return td;
}

// The audit log and the heartbeats are shown in the center's time, not the
// desk computer's, so that every screen and every report agree.
const beijing = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});

function timeCell(iso, none) {
  const td = document.createElement("td");
  const d = iso ? new Date(iso) : null;
  if (!d || Number.isNaN(d.getTime())) {
    td.textContent = none;
    return td;
  }
  const p = Object.fromEntries(beijing.formatToParts(d).map((x) => [x.type, x.value]));
  const t = document.createElement("time");
  t.dateTime = iso;
  t.textContent = `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
  td.append(t);
  return td;
}

// --- Kiosks (administrators) ---

const kiosks = document.getElementById("kiosks");
const kioskForm = document.getElementById("kiosk-form");

// deviceStates are the heartbeat's printer and reader states in Chinese,
// with how much they need attention.
const deviceStates = {
  ok: ["正常", "ok"],
  paper_low: ["纸少", "warn"],
  paper_out: ["缺纸", "bad"],
  toner_low: ["墨粉不足", "warn"],
  offline: ["离线", "bad"],
  error: ["故障", "bad"],
};

function deviceCell(fitted, state) {
  if (!fitted) return cell("未配备");
  if (!state) return cell("未上报");
  const [label, kind] = deviceStates[state] || [state, "warn"];
  return badge(label, kind);
}

function kioskStatus(text, isError) {
  const status = document.getElementById("kiosks-status");
  status.textContent = text;
  status.classList.toggle("error-text", Boolean(isError));
  return status;
}

// loadKiosks shows the center's kiosks; note, if any, is said first and
// takes the focus (the button that was pressed has been redrawn).
async function loadKiosks(note) {
  const table = document.getElementById("kiosks-table");
  const r = await api("GET", "/api/v1/staff/kiosks");
  if (!r.ok) {
    if (sessionEnded(r)) return;
    kioskStatus("终端列表加载失败：" + r.problem.detail, true);
    return;
  }
  const items = r.data.items || [];
  const rows = items.map((k) => {
    kioskNames.set(k.id, k.location);
    const tr = document.createElement("tr");
    tr.dataset.id = k.id;
    if (k.revoked) tr.className = "revoked";
    const id = document.createElement("td");
    const code = document.createElement("code");
    code.textContent = k.id;
    id.append(code);
    const actions = document.createElement("td");
    if (k.revoked) actions.textContent = "—";
    else actions.append(revokeButton(actions, k));
    tr.append(
      cell(k.location),
      id,
      deviceCell(k.card_reader, k.reader_status),
      deviceCell(k.printer, k.printer_status),
      k.revoked ? badge("已停用", "off") : badge("正常", "ok"),
      timeCell(k.last_seen, "从未连接"),
      actions,
    );
    return tr;
  });
  table.tBodies[0].replaceChildren(...rows);
  table.hidden = items.length === 0;
  const revoked = items.filter((k) => k.revoked).length;
  let summary = items.length ? `共 ${items.length} 台终端` : "本中心还没有登记自助终端。";
  if (revoked) summary += `，其中 ${revoked} 台已停用`;
  const status = kioskStatus(note ? `${note}${summary}。` : summary);
  if (note) status.focus();
}

// revokeButton is a kiosk's 停用 button. It asks again in place, in the
// kiosk's own row, rather than with window.confirm, whose box blocks the
// page and hides which kiosk is meant: 确认停用 or 取消; Escape cancels.
function revokeButton(td, k) {
  const start = button("停用", "button small danger");
  start.setAttribute("aria-label", `停用 ${k.location} 的终端`);
  start.addEventListener("click", () => {
    for (const open of document.querySelectorAll("#kiosks-table .confirm [data-cancel]")) open.click();
    const q = document.createElement("span");
    q.id = `revoke-${k.id}-question`;
    q.className = "confirm-text";
    q.textContent = "停用后立即无法使用，确定吗？";
    const yes = button("确认停用", "button small danger fill");
    yes.setAttribute("aria-describedby", q.id);
    const no = button("取消", "button small");
    no.dataset.cancel = "";
    const box = document.createElement("div");
    box.className = "confirm";
    box.append(q, yes, no);
    td.replaceChildren(box);
    yes.focus();
    const cancel = () => {
      const refocus = box.contains(document.activeElement);
      td.replaceChildren(start);
      if (refocus) start.focus();
    };
    no.addEventListener("click", cancel);
    box.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") cancel();
    });
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      no.disabled = true;
      const r = await api("POST", `/api/v1/staff/kiosks/${encodeURIComponent(k.id)}/revoke`);
      if (!r.ok) {
        if (sessionEnded(r)) return;
        td.replaceChildren(start);
        kioskStatus("停用未成功：" + r.problem.detail, true).focus();
        return;
      }
      await loadKiosks(`已停用“${k.location}”的终端。`);
      loadAudit();
    });
  });
  return start;
}

// showSecret opens the one-time panel with the new kiosk's ID and secret.
function showSecret(k, secret) {
  const panel = document.getElementById("kiosk-secret");
  document.getElementById("kiosk-secret-location").textContent = k.location;
  document.getElementById("kiosk-secret-id").textContent = k.id;
  document.getElementById("kiosk-secret-value").textContent = secret;
  document.getElementById("kiosk-secret-copied").textContent = "";
  panel.hidden = false;
  panel.focus();
}

// copyText copies a value of the panel; where the browser refuses (a page
// over plain HTTP has no clipboard API) it selects the text for Ctrl+C.
async function copyText(el, label) {
  const note = document.getElementById("kiosk-secret-copied");
  try {
    await navigator.clipboard.writeText(el.textContent);
    note.textContent = `${label}已复制。`;
  } catch {
    const range = document.createRange();
    range.selectNodeContents(el);
    const sel = getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    note.textContent = `浏览器不允许直接复制，${label}已选中，请按 Ctrl+C 复制。`;
  }
}

if (kiosks && kioskForm) {
  loadKiosks();
  document.getElementById("kiosks-refresh").addEventListener("click", () => loadKiosks());
  for (const b of document.querySelectorAll("#kiosk-secret [data-copy]")) {
    b.addEventListener("click", () => copyText(document.getElementById(b.dataset.copy), b.dataset.copyLabel));
  }
  document.getElementById("kiosk-secret-close").addEventListener("click", () => {
    // The secret leaves the page: nothing keeps it once the panel closes.
    for (const id of ["kiosk-secret-location", "kiosk-secret-id", "kiosk-secret-value", "kiosk-secret-copied"]) {
      document.getElementById(id).textContent = "";
    }
    getSelection().removeAllRanges();
    document.getElementById("kiosk-secret").hidden = true;
    document.getElementById("kiosk-location").focus();
  });
  onSubmit(kioskForm, async () => {
    const f = kioskForm.elements;
    const r = await api("POST", "/api/v1/staff/kiosks", {
      location: f.location.value.trim(),
      card_reader: f.card_reader.checked,
      printer: f.printer.checked,
    });
    if (!r.ok) {
      if (sessionEnded(r)) return;
      showErrors(kioskForm, r.problem, r.retryAfter);
      return;
    }
    kioskForm.reset();
    showSecret(r.data.kiosk, r.data.secret);
    await loadKiosks();
    loadAudit();
  });
}

// --- Courier accounts (administrators) ---

const courierForm = document.getElementById("courier-form");

if (courierForm && accounts) {
  onSubmit(courierForm, async () => {
    const f = courierForm.elements;
    const r = await api("POST", "/api/v1/staff/couriers", {
      username: f.username.value.trim(),
      name: f.name.value.trim(),
      company: f.company.value.trim(),
      password: f.password.value,
    });
    if (!r.ok) {
      if (sessionEnded(r)) return;
      showErrors(courierForm, r.problem, r.retryAfter);
      return;
    }
    courierForm.reset();
    const done = document.getElementById("courier-form-done");
    done.textContent = `已创建快递员账号 ${r.data.username}（${r.data.name}，${r.data.company}）。请将初始密码当面告知本人。`;
    done.hidden = false;
    done.focus();
    await loadAccounts();
    loadAudit();
  });
}

// --- Audit log (administrators and supervisors) ---

const audit = document.getElementById("audit");
const auditFilter = document.getElementById("audit-filter");
const auditMore = document.getElementById("audit-more");

// actionLabels are the Chinese names of audited actions, from the
// filter's options.
const actionLabels = new Map(
  [...document.querySelectorAll("#audit-action option")].filter((o) => o.value).map((o) => [o.value, o.textContent]),
);

const outcomes = { ok: ["成功", "ok"], denied: ["拒绝", "bad"], failed: ["失败", "bad"] };

// who names an audit reference ("staff:<id>", "kiosk:<id>", ...) as far as
// the page knows it; citizens stay references, the log holds no personal
// data.
function who(ref) {
  const at = ref.indexOf(":");
  const kind = at < 0 ? ref : ref.slice(0, at);
  const id = at < 0 ? "" : ref.slice(at + 1);
  switch (kind) {
    case "staff":
    case "courier":
      return staffNames.get(id) || `账号 ${id}`;
    case "kiosk":
      return kioskNames.has(id) ? `自助终端“${kioskNames.get(id)}”` : `自助终端 ${id}`;
    case "citizen":
      return `群众 ${id}`;
    case "matter": {
      const m = /^(.+)@(\d+)$/.exec(id);
      return m ? `事项 ${m[1]}（第 ${m[2]} 版）` : `事项 ${id}`;
    }
    case "cli":
      return "服务器命令行";
    case "anonymous":
      return "未登录用户";
  }
  return ref;
}

// loginTargets explain the target of a refused or failed login.
const loginTargets = { username: "不存在的用户名", staff: "从工作人员入口", courier: "从快递员入口" };

function auditTarget(rec) {
  const parts = [];
  if (rec.target) parts.push(rec.action === "login" ? loginTargets[rec.target] || rec.target : who(rec.target));
  if (rec.subject && rec.subject !== rec.target) parts.push("涉及" + who(rec.subject));
  if (rec.purpose) parts.push("事由：" + rec.purpose);
  if (rec.kiosk && rec.actor !== "kiosk:" + rec.kiosk) parts.push("在" + who("kiosk:" + rec.kiosk));
  return parts.join("；") || "—";
}

function auditRow(rec) {
  const tr = document.createElement("tr");
  tr.dataset.action = rec.action;
  tr.dataset.outcome = rec.outcome;
  const action = document.createElement("td");
  const label = actionLabels.get(rec.action);
  if (label) action.append(label, " ");
  const code = document.createElement("code");
  code.textContent = rec.action;
  action.append(code);
  const [outcome, kind] = outcomes[rec.outcome] || [rec.outcome, "warn"];
  tr.append(timeCell(rec.at, "—"), cell(who(rec.actor)), action, badge(outcome, kind), cell(auditTarget(rec)), cell(rec.ip || "—"));
  return tr;
}

let auditNext = "";
let auditSeq = 0;

// loadAudit shows the newest 50 records of the chosen action, or with more
// the 50 before those shown. A newer call wins over one still running.
async function loadAudit(more) {
  if (!audit) return;
  const seq = ++auditSeq;
  const status = document.getElementById("audit-status");
  const table = document.getElementById("audit-table");
  const q = new URLSearchParams({ limit: "50" });
  const action = document.getElementById("audit-action").value;
  if (action) q.set("action", action);
  if (more) q.set("cursor", auditNext);
  const r = await api("GET", "/api/v1/staff/audit?" + q);
  if (seq !== auditSeq) return;
  if (!r.ok) {
    if (sessionEnded(r)) return;
    status.textContent = "审计日志加载失败：" + r.problem.detail;
    status.classList.add("error-text");
    return;
  }
  const rows = (r.data.items || []).map(auditRow);
  if (more) table.tBodies[0].append(...rows);
  else table.tBodies[0].replaceChildren(...rows);
  auditNext = r.data.next || "";
  auditMore.hidden = !auditNext;
  const n = table.tBodies[0].rows.length;
  table.hidden = n === 0;
  status.classList.remove("error-text");
  if (n === 0) status.textContent = "没有符合条件的记录。";
  else status.textContent = `显示最近 ${n} 条记录` + (auditNext ? "。" : "，已是全部记录。");
  // 更早 disappears at the end of the log; focus must not go with it.
  if (more && auditMore.hidden) status.focus();
}

if (audit && auditFilter) {
  loadAudit();
  auditFilter.addEventListener("submit", (ev) => {
    ev.preventDefault();
    loadAudit();
  });
  auditMore.addEventListener("click", async () => {
    auditMore.disabled = true;
    try {
      await loadAudit(true);
    } finally {
      auditMore.disabled = false;
    }
  });
}

// --- 叫号: the window clerk's calling panel ---

const calling = document.getElementById("calling");

// priorityLabels name a ticket's priority as the lobby display does.
const priorityLabels = {
  elderly: "老年人优先",
  green: "绿色通道",
  appointment: "预约",
  disabled: "残疾人优先",
  pregnant: "孕妇优先",
};

const ticketStatusLabels = { called: "已呼叫，等候群众到窗口", parked: "已挂起" };

// The chosen window and the ticket at it survive a reload: a clerk who
// refreshes the page mid-service still sees whom they are serving. The
// server has the last word: once signed in, the panel asks which tickets
// are open at the window (GET .../tickets), so that another computer, or
// a browser that lost its storage, picks them up too.
const windowKey = "banhao.console.window";
const ticketKey = "banhao.console.ticket";

function stored(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function store(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // Private mode: the panel still works, it only forgets on reload.
  }
}

if (calling) {
  const windowSelect = document.getElementById("calling-window");
  const callNext = document.getElementById("call-next");
  const message = document.getElementById("calling-message");
  const status = document.getElementById("calling-status");
  const panel = document.getElementById("calling-ticket");
  const transferSelect = document.getElementById("transfer-sector");
  const sectorName = new Map([...transferSelect.options].map((o) => [o.value, o.textContent]));
  const windowNames = new Map();
  const signOut = document.getElementById("sign-out");
  const matters = document.getElementById("ticket-matters");
  const mattersList = document.getElementById("ticket-matters-list");
  const mattersNote = document.getElementById("ticket-matters-note");
  const mattersRetry = document.getElementById("ticket-matters-retry");
  // mattersFor is the ticket and sector the matters list is drawn (or being
  // loaded) for: a transferred ticket comes back in another sector.
  let mattersFor = "";
  let signedIn = ""; // the window this clerk is signed in to
  let current = null;
  try {
    current = JSON.parse(stored(ticketKey) || "null");
  } catch {
    current = null;
  }
  let busy = false;
  // others is how many more tickets are open at the window besides the one
  // shown: the panel takes the next one up when the current one is done.
  let others = 0;

  const say = (text) => {
    message.hidden = true;
    message.textContent = "";
    status.textContent = text;
  };
  // fail shows a refusal; its field errors mark the controls to blame
  // (the transfer select unless the caller names others).
  const fail = (problem, blamed) => {
    const fields = (problem.errors || []).map((e) => e.message);
    message.textContent = [problem.detail || "操作失败，请重试。", ...fields].join(" ");
    message.hidden = false;
    status.textContent = "";
    if (fields.length) {
      for (const el of blamed || [transferSelect]) {
        el.setAttribute("aria-invalid", "true");
        el.setAttribute("aria-describedby", "calling-message");
      }
    }
    message.focus();
  };

  const matterBoxes = () => [...mattersList.querySelectorAll('input[type="checkbox"]')];

  // loadMatters lists the matters of the ticket's sector as checkboxes,
  // none ticked: the ones the clerk ticks are sent with 办结. A sector has
  // a handful, but the list follows the API's cursor all the same.
  const loadMatters = async (t) => {
    const key = `${t.id}|${t.sector}`;
    mattersFor = key;
    mattersList.replaceChildren();
    mattersNote.textContent = "正在加载本板块的事项…";
    mattersNote.hidden = false;
    // A retry keeps its button (and the focus on it) until the list is in.
    if (document.activeElement !== mattersRetry) mattersRetry.hidden = true;
    const items = [];
    let cursor = "";
    for (let page = 0; page < 20; page++) {
      const q = new URLSearchParams({ center: calling.dataset.center || "", sector: t.sector, limit: "100" });
      if (cursor) q.set("cursor", cursor);
      const r = await api("GET", `/api/v1/matters?${q}`);
      // Another ticket may be shown by now: its own load draws the list.
      if (mattersFor !== key) return;
      if (!r.ok) {
        mattersNote.textContent = `事项列表未能加载：${r.problem.detail} 仍可直接办结。`;
        mattersRetry.hidden = false;
        return;
      }
      items.push(...((r.data && r.data.items) || []));
      cursor = (r.data && r.data.next) || "";
      if (!cursor) break;
    }
    const retrying = document.activeElement === mattersRetry;
    mattersRetry.hidden = true;
    mattersNote.textContent = items.length ? "" : "本板块暂无可选事项，可直接办结。";
    mattersNote.hidden = items.length > 0;
    mattersList.replaceChildren(
      ...items.map((m) => {
        const label = document.createElement("label");
        label.className = "check";
        const box = document.createElement("input");
        box.type = "checkbox";
        box.name = "matters";
        box.value = m.code;
        label.append(box, ` ${m.name}`);
        return label;
      }),
    );
    // The retry button is gone: keep the keyboard in the list.
    if (retrying) (matterBoxes()[0] || panel).focus();
  };

  mattersRetry.addEventListener("click", () => {
    if (current) loadMatters(current);
  });
  // Unticking a matter the server refused clears its mark.
  mattersList.addEventListener("change", (ev) => {
    ev.target.removeAttribute("aria-invalid");
    ev.target.removeAttribute("aria-describedby");
  });

  // show draws the current ticket, or hides the panel when there is none.
  const show = () => {
    store(ticketKey, current ? JSON.stringify(current) : null);
    panel.hidden = !current;
    if (!current) {
      mattersFor = "";
      mattersList.replaceChildren();
      return;
    }
    const parked = current.status === "parked";
    document.getElementById("ticket-number").textContent = current.number;
    const prio = document.getElementById("ticket-priority");
    prio.textContent = priorityLabels[current.priority] || "";
    prio.hidden = !prio.textContent;
    document.getElementById("ticket-sector").textContent = sectorName.get(current.sector) || current.sector;
    document.getElementById("ticket-window").textContent = windowNames.get(current.window) || current.windowName || "";
    document.getElementById("ticket-calls").textContent = `${current.calls} 次`;
    document.getElementById("ticket-status").textContent = ticketStatusLabels[current.status] || current.status;
    // A parked ticket can only come back; every other action needs it called.
    for (const b of panel.querySelectorAll("[data-act]")) {
      b.hidden = (b.dataset.act === "resume") !== parked;
    }
    panel.querySelector(".transfer").hidden = parked;
    for (const o of transferSelect.options) o.disabled = o.value === current.sector;
    if (transferSelect.selectedOptions[0]?.disabled) {
      const other = [...transferSelect.options].find((o) => !o.disabled);
      if (other) transferSelect.value = other.value;
    }
    transferSelect.removeAttribute("aria-invalid");
    transferSelect.removeAttribute("aria-describedby");
    // Matters are recorded on 办结, which a parked ticket does not offer.
    matters.hidden = parked;
    for (const box of matterBoxes()) {
      box.removeAttribute("aria-invalid");
      box.removeAttribute("aria-describedby");
    }
    if (mattersFor !== `${current.id}|${current.sector}`) loadMatters(current);
  };

  const loadWindows = async () => {
    const r = await api("GET", "/api/v1/staff/windows");
    if (!r.ok) {
      if (sessionEnded(r)) return;
      windowSelect.replaceChildren(new Option("窗口列表加载失败", ""));
      fail(r.problem);
      return;
    }
    const items = r.data.items || [];
    const opts = [new Option(items.length ? "请选择窗口" : "本中心还没有设置窗口", "")];
    for (const w of items) {
      windowNames.set(w.id, w.name);
      const sectors = (w.sectors || []).map((c) => sectorName.get(c) || c).join("、");
      opts.push(new Option(sectors ? `${w.name}（${sectors}）` : w.name, w.id));
    }
    windowSelect.replaceChildren(...opts);
    const mine = items.find((w) => w.mine);
    const saved = stored(windowKey);
    if (mine) {
      windowSelect.value = mine.id;
      signedIn = mine.id;
      signOut.hidden = false;
      store(windowKey, mine.id);
      await recover(mine.id, "");
      return;
    }
    if (saved && windowNames.has(saved)) {
      windowSelect.value = saved;
      if (await signIn(saved)) return;
    }
    show();
  };

  // fromServer is a ticket of the window's list as the panel keeps it.
  const fromServer = (item, win) => ({
    id: item.ticket_id, number: item.number, sector: item.sector, priority: item.priority || "",
    window: win, windowName: windowNames.get(win) || "", calls: item.calls, status: item.status,
  });

  // recover makes the panel agree with the server about the tickets called
  // or parked at the window: it keeps the ticket it has if the server still
  // lists it there, drops it if not, and otherwise takes up the earliest
  // called. lead is said before what changed.
  const recover = async (win, lead) => {
    const r = await api("GET", `/api/v1/staff/windows/${encodeURIComponent(win)}/tickets`);
    if (!r.ok) {
      if (sessionEnded(r)) return;
      show();
      fail({ detail: `无法查询本窗口正在办理的号码：${r.problem.detail}` });
      return;
    }
    const open = (r.data.items || [])
      .filter((i) => i.status === "called" || i.status === "parked")
      .sort((a, b) => Date.parse(a.called_at) - Date.parse(b.called_at));
    const notes = [];
    const kept = current && current.window === win ? open.find((i) => i.ticket_id === current.id) : null;
    if (kept) {
      current = { ...current, calls: kept.calls, status: kept.status };
    } else {
      if (current) notes.push(`${current.number} 号已不在本窗口待办（可能已在其他电脑上处理），已从面板移除。`);
      current = open.length ? fromServer(open[0], win) : null;
      if (current) notes.push(`已接回本窗口未办完的 ${current.number} 号（${ticketStatusLabels[current.status] || current.status}）。`);
    }
    const rest = open.filter((i) => !current || i.ticket_id !== current.id);
    others = rest.length;
    if (others) {
      notes.push(`本窗口另有 ${others} 个号码未办完（${rest.map((i) => i.number).join("、")}），办完当前号码后依次显示。`);
    }
    show();
    const text = [lead, ...notes].filter(Boolean).join("");
    if (text) say(text);
    if (current && !kept) panel.focus();
  };

  // signIn opens a window for this clerk: only the clerk signed in calls there.
  const signIn = async (win) => {
    const r = await api("POST", `/api/v1/staff/windows/${encodeURIComponent(win)}/sign-in`);
    if (!r.ok) {
      if (sessionEnded(r)) return false;
      windowSelect.value = "";
      store(windowKey, null);
      fail(r.problem);
      return false;
    }
    signedIn = win;
    signOut.hidden = false;
    store(windowKey, win);
    await recover(win, `已签入${r.data.name}，可以叫号。`);
    return true;
  };

  const leave = async () => {
    if (!signedIn) return true;
    const r = await api("POST", `/api/v1/staff/windows/${encodeURIComponent(signedIn)}/sign-out`);
    if (!r.ok) {
      if (sessionEnded(r)) return false;
      fail(r.problem);
      return false;
    }
    signedIn = "";
    signOut.hidden = true;
    return true;
  };

  windowSelect.addEventListener("change", () =>
    run(async () => {
      const win = windowSelect.value;
      if (win === signedIn) return;
      if (!(await leave())) {
        windowSelect.value = signedIn;
        return;
      }
      store(windowKey, win || null);
      if (win) await signIn(win);
      else say("已签出窗口。");
    }),
  );

  signOut.addEventListener("click", () =>
    run(async () => {
      const name = windowNames.get(signedIn) || "窗口";
      if (!(await leave())) return;
      windowSelect.value = "";
      store(windowKey, null);
      say(`已签出${name}。`);
      windowSelect.focus();
    }),
  );

  // run sends one request at a time; a second press while the first is
  // on its way does nothing, so a double Enter never calls two people.
  const run = async (send) => {
    if (busy) return;
    busy = true;
    calling.setAttribute("aria-busy", "true");
    try {
      await send();
    } finally {
      busy = false;
      calling.removeAttribute("aria-busy");
    }
  };

  callNext.addEventListener("click", () =>
    run(async () => {
      if (current) {
        fail({ detail: `请先处理当前号码 ${current.number}（办结、过号、挂起或转办）。` });
        return;
      }
      const win = windowSelect.value;
      if (!win) {
        fail({ detail: "请先选择我的窗口。" });
        windowSelect.focus();
        return;
      }
      const r = await api("POST", `/api/v1/staff/windows/${encodeURIComponent(win)}/call-next`);
      if (!r.ok) {
        if (sessionEnded(r)) return;
        if (r.problem.code === "queue_empty") {
          say("当前没有等候的群众");
          return;
        }
        fail(r.problem);
        return;
      }
      const d = r.data;
      current = {
        id: d.ticket_id, number: d.number, sector: d.sector, priority: d.priority || "",
        window: win, windowName: d.window, calls: d.calls, status: "called",
      };
      show();
      say(`已呼叫：${d.announcement}`);
      panel.focus();
    }),
  );

  const done = { complete: "已办结", "no-show": "已过号", transfer: "已转办" };

  panel.addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-act]");
    if (!button || !current) return;
    const act = button.dataset.act;
    run(async () => {
      const t = current;
      let body;
      let ticked = [];
      if (act === "transfer") body = { sector: transferSelect.value };
      if (act === "complete") {
        ticked = matterBoxes().filter((b) => b.checked);
        if (ticked.length) body = { matters: ticked.map((b) => b.value) };
      }
      const path = `/api/v1/staff/windows/${encodeURIComponent(t.window)}/tickets/${encodeURIComponent(t.id)}/${act}`;
      const r = await api("POST", path, body);
      if (!r.ok) {
        if (sessionEnded(r)) return;
        if (r.problem.code === "ticket_state") {
          // The ticket moved on elsewhere (another tab, a stale page): drop it.
          current = null;
          show();
          fail({ detail: `${t.number} 号已不在本窗口待办，已从面板移除。${r.problem.detail || ""}` });
          return;
        }
        if (act === "complete" && ticked.length) {
          // A matter the catalog no longer has (matters[i]): name it and
          // mark its box.
          const blamed = [];
          for (const fe of r.problem.errors || []) {
            const m = /^matters\[(\d+)\]$/.exec(fe.field || "");
            const box = m ? ticked[Number(m[1])] : null;
            if (box) {
              blamed.push(box);
              fe.message = `${box.parentElement.textContent.trim()}：${fe.message}`;
            } else if (fe.field === "matters") {
              blamed.push(...ticked);
            }
          }
          fail(r.problem, blamed);
          return;
        }
        fail(r.problem);
        return;
      }
      const d = r.data;
      if (d.status === "called" || d.status === "parked") {
        current = { ...t, calls: d.calls, status: d.status };
        show();
        if (act === "recall") say(`已重呼 ${d.number} 号（第 ${d.calls} 次）。`);
        else if (act === "park") say(`${d.number} 号已挂起，群众回来后按“恢复”。`);
        else say(`${d.number} 号已恢复办理。`);
        // The pressed button may be hidden now (挂起, 恢复): keep focus on the panel.
        if (button.hidden) panel.focus();
        return;
      }
      current = null;
      let text = `${d.number} 号${done[act] || "已处理"}。`;
      const served = (d.matters || []).length;
      if (act === "complete" && served) text = `${d.number} 号已办结（${served} 项事项）。`;
      if (act === "transfer") text = `${d.number} 号已转到${sectorName.get(d.sector) || d.sector}，重新排队。`;
      else if (act === "recall") text = `${d.number} 号呼叫 ${t.calls} 次未到，已过号。`;
      if (others) {
        // More were open at the window: take up the next.
        await recover(t.window, text);
        if (current) return;
      } else {
        show();
        say(text);
      }
      callNext.focus();
    });
  });

  run(loadWindows);
}

// --- 优先办理确认: clerks and supervisors decide a declared priority ---

const priorityForm = document.getElementById("priority-form");

// priorityDone says what became of a ticket: d is the API's answer, asked
// the priority the button asked for. The server keeps a priority that is
// served as soon as the one asked (an appointment, a 70-year-old), so the
// answer's priority, not the button, says how the ticket now waits.
function priorityDone(d, asked) {
  const ahead = `前面还有 ${d.ahead} 人。`;
  const label = priorityLabels[d.priority] || "";
  if (!asked) {
    return `${d.number} 号的优先申报已驳回，${label ? "仍按" + label : "按普通号"}排队，${ahead}`;
  }
  if (d.priority !== asked) return `${d.number} 号已是${label}，无需调整，${ahead}`;
  if (asked === "green") return `${d.number} 号已走绿色通道，${ahead}`;
  return `${d.number} 号已按${label}，${ahead}`;
}

if (priorityForm) {
  const number = document.getElementById("priority-number");
  const done = document.getElementById("priority-form-done");
  const actions = [...priorityForm.querySelectorAll("button[data-priority]")];
  let busy = false;

  // The buttons are not submit buttons, so that Enter in the number field
  // never decides anything by itself: it asks for a button instead.
  priorityForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    clearErrors(priorityForm);
    const box = document.getElementById("priority-form-message");
    box.textContent = "请按下方的按钮选择：确认残疾人、确认孕妇、绿色通道或驳回申报。";
    box.hidden = false;
  });

  const decide = async (asked) => {
    if (busy) return;
    clearErrors(priorityForm);
    const n = number.value.trim().toUpperCase();
    if (!n) {
      showErrors(priorityForm, {
        detail: "输入有误，请检查后重试",
        errors: [{ field: "number", message: "请输入排队号码，如 C023" }],
      });
      return;
    }
    busy = true;
    for (const b of actions) b.disabled = true;
    priorityForm.setAttribute("aria-busy", "true");
    try {
      const r = await api("POST", "/api/v1/staff/tickets/priority", { number: n, priority: asked });
      if (!r.ok) {
        if (sessionEnded(r)) return;
        const p = r.problem;
        if (p.code === "ticket_state") {
          p.detail = `${n}：${p.detail}。已叫号、办结或过号的号码不能再调整优先。`;
        }
        showErrors(priorityForm, p, r.retryAfter);
        return;
      }
      done.textContent = priorityDone(r.data, asked);
      done.hidden = false;
      // The status is read out; the field is ready for the next citizen.
      number.value = "";
      number.focus();
    } finally {
      busy = false;
      for (const b of actions) b.disabled = false;
      priorityForm.removeAttribute("aria-busy");
    }
  };

  for (const b of actions) b.addEventListener("click", () => decide(b.dataset.priority));
}
