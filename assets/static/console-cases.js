// 办件工作台 (/console/cases) and the printable notices of a case
// (/console/cases/{id}/notice, /console/cases/{id}/acceptance).
//
// The worklist is the signed-in staff member's (GET /api/v1/staff/cases:
// clerks get the cases waiting for acceptance, approvers their sectors'
// accepted cases, supervisors the 督办 board of every running clock); it
// refreshes every 30 seconds. Choosing a case opens its panel with the
// actions the roles allow in the case's state; the server decides again.
// A refused action shows the server's Chinese detail in the form's alert
// and keeps everything typed; a successful one redraws the panel from the
// case the server answers with. Changes echo the banhao_csrf cookie in
// X-CSRF-Token, as console.js does.

import { api, sessionEnded, waitText, el, cell, badge } from "/static/console-api.js";

const $ = (id) => document.getElementById(id);

// The notice pages: 打印 prints the page (the stylesheet keeps only the notice).
const printButton = $("print-notice");
if (printButton) printButton.addEventListener("click", () => window.print());

function clearErrors(form) {
  for (const p of form.querySelectorAll(".field-error")) {
    const owner = form.querySelector(`[aria-describedby~="${p.id}"]`);
    if (owner) {
      const rest = owner.getAttribute("aria-describedby").split(" ").filter((id) => id !== p.id);
      if (rest.length) owner.setAttribute("aria-describedby", rest.join(" "));
      else owner.removeAttribute("aria-describedby");
    }
    p.remove();
  }
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const box = $(form.id + "-message");
  if (box) {
    box.hidden = true;
    box.textContent = "";
  }
}

// fieldParts finds what shows a field's error by the field's name in the
// form: the control to focus, the element the error describes, and where
// the text goes.
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

// markField puts message next to a control and marks it invalid.
function markField(form, parts, key, message) {
  const id = `${form.id}-${key.replace(/[^A-Za-z0-9_-]/g, "-")}-error`;
  let p = $(id);
  if (!p) {
    p = document.createElement("p");
    p.id = id;
    p.className = "field-error";
    parts.after.after(p);
    const ids = (parts.described.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    parts.described.setAttribute("aria-describedby", [id, ...ids].join(" "));
    p.textContent = message;
  } else {
    p.textContent += "；" + message;
  }
  parts.focus.setAttribute("aria-invalid", "true");
}

// showErrors puts the problem's detail in the form's alert and each field
// error next to its field; resolve may find the control of a field the
// form does not name (problems[1] of the return form). Focus goes to the
// alert, which says what to do, or to the only field at fault.
function showErrors(form, problem, retryAfter, resolve) {
  const box = $(form.id + "-message");
  const loose = [];
  let first = null;
  for (const fe of problem.errors || []) {
    const parts = (resolve && resolve(fe.field)) || fieldParts(form, fe.field);
    if (!parts) {
      loose.push(fe.message);
      continue;
    }
    markField(form, parts, fe.field, fe.message);
    first = first || parts.focus;
  }
  box.textContent = [problem.detail, ...loose, waitText(retryAfter)].filter(Boolean).join(" ");
  box.hidden = false;
  (loose.length || !first ? box : first).focus();
}

// The center's time, whatever the desk computer's zone.
const beijing = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

function when(iso) {
  const d = iso ? new Date(iso) : null;
  if (!d || Number.isNaN(d.getTime())) return "";
  const p = Object.fromEntries(beijing.formatToParts(d).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

function day(iso) {
  return when(iso).slice(0, 10);
}

const root = $("cases");
if (root) initCases(root);

function initCases(root) {
  const roles = {
    clerk: root.dataset.clerk === "true",
    approver: root.dataset.approver === "true",
    supervisor: root.dataset.supervisor === "true",
  };
  const staffNames = new Map([...document.querySelectorAll("#staff-names li")].map((li) => [li.dataset.id, li.dataset.name]));
  const sectorNames = new Map([...document.querySelectorAll("#sector-names li")].map((li) => [li.dataset.code, li.dataset.name]));

  const levelKinds = { green: "ok", yellow: "warn", red: "bad" };
  const materialStates = {
    missing: ["缺少", "bad"],
    provided: ["已提供", "ok"],
    pending: ["容缺待补", "warn"],
    waived: ["已豁免", "off"],
  };
  const channels = { online: "小程序", kiosk: "自助终端", window: "窗口" };
  const deliveries = { window: "窗口领取", kiosk_print: "自助终端打印", express: "免费邮寄" };
  const actions = {
    submit: "提交申请",
    resubmit: "补正后继续审批",
    return: "退回补正",
    accept: "受理",
    reject: "不予受理",
    supply: "补齐容缺材料",
    approve: "审批通过",
    deny: "不予批准",
    suspend: "中止",
    resume: "恢复办理",
    extend: "延期",
    waive: "豁免容缺材料",
    green: "绿色通道",
    withdraw: "撤回",
  };
  const closedStates = ["approved", "denied", "rejected", "withdrawn"];

  // --- The worklist and the board ---

  const table = $("worklist");
  const status = $("worklist-status");
  const updated = $("worklist-updated");
  const onlyLate = $("only-late");
  const refreshButton = $("worklist-refresh");
  let loading = false;
  // current is the case in the panel, as the server last answered.
  let current = null;

  function setStatus(text, isError) {
    if (status.textContent !== text) status.textContent = text;
    status.classList.toggle("error-text", Boolean(isError));
  }

  function deadline(clock, state) {
    const wrap = el("span", "deadline");
    if (!clock) {
      wrap.textContent = state === "submitted" ? "未受理，尚未计时" : "—";
      return wrap;
    }
    const label = clock.level_label || clock.level;
    const rest = clock.paused ? `${clock.due_day} 前（暂停计时）` : `${clock.due_day} 前，剩 ${clock.left} 个工作日`;
    wrap.append(badge(label, levelKinds[clock.level] || "warn"), " ", rest);
    return wrap;
  }

  async function loadWorklist() {
    if (loading) return;
    loading = true;
    try {
      const late = Boolean(onlyLate && onlyLate.checked);
      const r = await api("GET", "/api/v1/staff/cases" + (late ? "?level=late" : ""));
      if (!r.ok) {
        if (sessionEnded(r)) return;
        setStatus("办件列表加载失败：" + r.problem.detail, true);
        return;
      }
      const items = r.data.items || [];
      const levels = r.data.levels || {};
      for (const span of document.querySelectorAll(".board-count")) {
        span.textContent = String(levels[span.dataset.level] || 0);
      }
      // A refresh must not take the keyboard away from a row.
      const focusedRow = document.activeElement && document.activeElement.closest && document.activeElement.closest("#worklist tr");
      const refocus = focusedRow ? focusedRow.dataset.id : "";
      const rows = items.map((it) => {
        const tr = document.createElement("tr");
        tr.dataset.id = it.id;
        if (current && current.id === it.id) tr.setAttribute("aria-current", "true");
        const open = el("button", "link-button", it.number);
        open.type = "button";
        open.dataset.open = it.id;
        const number = cell(open);
        if (it.escalations) number.append(" ", badge(`督办 ${it.escalations} 次`, "warn"));
        tr.append(
          number,
          cell(it.matter_name),
          cell(sectorNames.get(it.sector) || it.sector),
          cell(it.state_label),
          cell(it.green ? badge("绿色通道", "ok") : "—"),
          cell(it.pending ? `${it.pending} 项` : "—"),
          cell(deadline(it.clock, it.state)),
        );
        return tr;
      });
      table.tBodies[0].replaceChildren(...rows);
      table.hidden = items.length === 0;
      if (refocus) {
        const again = table.querySelector(`tr[data-id="${CSS.escape(refocus)}"] button`);
        if (again) again.focus();
      }
      if (items.length) setStatus(`共 ${items.length} 件`);
      else setStatus(late ? "没有预警或超期的办件" : "暂无办件");
      updated.textContent = `（${when(new Date().toISOString()).slice(11)} 更新）`;
    } finally {
      loading = false;
    }
  }

  table.addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-open]");
    if (b) openCase(b.dataset.open, true);
  });
  refreshButton.addEventListener("click", loadWorklist);
  if (onlyLate) onlyLate.addEventListener("change", loadWorklist);

  // --- The case panel ---

  const panel = $("case");
  const panelMessage = $("case-message");
  const done = $("case-done");
  const forms = [...panel.querySelectorAll("form.action-form")];

  function say(text) {
    panelMessage.hidden = true;
    done.textContent = text;
    done.hidden = false;
    done.focus();
  }

  function fail(problem) {
    done.hidden = true;
    panelMessage.textContent = [problem.detail, ...(problem.errors || []).map((e) => e.message)].filter(Boolean).join(" ");
    panelMessage.hidden = false;
    panelMessage.focus();
  }

  async function openCase(id, focus) {
    const r = await api("GET", `/api/v1/staff/cases/${encodeURIComponent(id)}`);
    if (!r.ok) {
      if (sessionEnded(r)) return;
      panel.hidden = false;
      fail({ detail: "办件加载失败：" + r.problem.detail });
      return;
    }
    done.hidden = true;
    panelMessage.hidden = true;
    renderCase(r.data, true);
    panel.hidden = false;
    if (focus) panel.focus();
  }

  $("case-close").addEventListener("click", () => {
    const id = current && current.id;
    current = null;
    panel.hidden = true;
    for (const tr of table.querySelectorAll("tr[aria-current]")) tr.removeAttribute("aria-current");
    const back = id && table.querySelector(`tr[data-id="${CSS.escape(id)}"] button`);
    (back || refreshButton).focus();
  });
  $("case-reload").addEventListener("click", () => current && openCase(current.id, false));

  function fact(dl, label, value) {
    if (value === undefined || value === null || value === "") return;
    const div = document.createElement("div");
    const dd = document.createElement("dd");
    if (value instanceof Node) dd.append(value);
    else dd.textContent = value;
    div.append(el("dt", "", label), dd);
    dl.append(div);
  }

  function sourceText(m) {
    if (!m.source_label) return "—";
    if (m.source === "ecert" && m.ecert) return `${m.source_label}：${m.ecert.type}，${m.ecert.issuer}`;
    if (m.source === "reuse" && m.reused_from) return `${m.source_label}（办件 ${m.reused_from}）`;
    return m.source_label;
  }

  function fileSize(n) {
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
    return `${(n / 1024 / 1024).toFixed(1)} MB`;
  }

  function renderMaterials(k) {
    const clerkEdits = roles.clerk && ["draft", "submitted", "returned"].includes(k.state);
    const rows = k.materials.map((m) => {
      const tr = document.createElement("tr");
      tr.dataset.index = String(m.index);
      const name = cell(m.name);
      for (const p of m.problems || []) name.append(el("span", "material-problem", `待补正：${p}`));
      const need = [m.required ? "必需" : "选交"];
      if (m.pendable) need.push("可容缺");
      const [label, kind] = materialStates[m.status] || [m.status, "warn"];
      let file = "—";
      if (m.file) {
        const a = el("a", "", "下载");
        a.href = `/api/v1/staff/cases/${encodeURIComponent(k.id)}/materials/${m.index}/file`;
        a.append(el("span", "visually-hidden", `：${m.name}`));
        file = el("span");
        file.append(a, `（${fileSize(m.file.size)}）`);
      }
      tr.append(cell(String(m.index + 1)), name, cell(need.join("，")), cell(badge(label, kind)), cell(sourceText(m)), cell(file));
      if (roles.clerk) {
        let paper = "—";
        // A paper original stands in for a missing material; it never
        // replaces an upload the citizen made.
        if (clerkEdits && !m.locked && (m.status === "missing" || m.source === "paper")) {
          const seen = m.source === "paper";
          paper = el("button", "button small", seen ? "撤销核验" : "已核验原件");
          paper.type = "button";
          paper.dataset.paper = String(m.index);
          paper.dataset.seen = seen ? "false" : "true";
          paper.setAttribute("aria-label", `${seen ? "撤销核验" : "已核验原件"}：${m.name}`);
        }
        tr.append(cell(paper));
      }
      return tr;
    });
    $("case-materials").tBodies[0].replaceChildren(...rows);
  }

  $("case-materials").addEventListener("click", async (ev) => {
    const b = ev.target.closest("button[data-paper]");
    if (!b || !current || b.disabled) return;
    b.disabled = true;
    const name = current.materials[Number(b.dataset.paper)].name;
    const seen = b.dataset.seen === "true";
    const r = await api("POST", `/api/v1/staff/cases/${encodeURIComponent(current.id)}/materials/${b.dataset.paper}/paper`, { seen });
    b.disabled = false;
    if (!r.ok) {
      if (sessionEnded(r)) return;
      fail(r.problem);
      return;
    }
    // Only the materials change: forms keep what is typed in them, and
    // the 容缺 choices still open stay ticked.
    current = r.data;
    renderInfo(current);
    if (acceptForm) {
      const ticked = new Set([...acceptForm.querySelectorAll('input[name="pending"]:checked')].map((x) => x.value));
      buildAccept(current);
      for (const x of acceptForm.querySelectorAll('input[name="pending"]')) x.checked = ticked.has(x.value);
    }
    say(seen ? `已记录：窗口核验“${name}”纸质原件。` : `已撤销“${name}”的原件核验。`);
  });

  function renderInfo(k) {
    $("case-number").textContent = k.number;
    const dl = $("case-facts");
    dl.replaceChildren();
    fact(dl, "申请事项", k.matter_name);
    fact(dl, "板块", sectorNames.get(k.sector) || k.sector);
    const state = el("span", "", k.state_label);
    if (k.green) state.append(" ", badge("绿色通道", "ok"));
    fact(dl, "状态", state);
    fact(dl, "申请渠道", channels[k.channel] || k.channel);
    fact(dl, "申请事由", k.summary);
    fact(dl, "出件方式", deliveries[k.delivery] || k.delivery);
    fact(dl, "提交时间", when(k.submitted_at));
    fact(dl, "受理时间", when(k.accepted_at));
    fact(dl, "办结时间", when(k.closed_at));
    fact(dl, "容缺承诺", k.commitment);
    fact(dl, "免提交、复用材料", k.saved ? `${k.saved} 项` : "");
    if (k.overrides) fact(dl, "督办授权的再次告知", `${k.overrides} 次`);

    const clock = $("case-clock");
    clock.replaceChildren();
    if (k.clock) {
      const c = k.clock;
      const p = el("p", "clock-line");
      p.append(el("strong", "", "办理期限："), badge(c.level_label || c.level, levelKinds[c.level] || "warn"),
        ` 时限 ${c.limit} 个工作日，${c.due_day} 前办结；已用 ${c.used}、剩余 ${c.left} 个工作日`);
      if (c.paused) p.append("；目前暂停计时");
      if (c.statutory_due) p.append(`；法定期限至 ${day(c.statutory_due)}`);
      clock.append(p);
      if (c.supply_due) clock.append(el("p", "clock-line", `容缺材料须于 ${when(c.supply_due)} 前补齐。`));
    }
    clock.hidden = !k.clock;

    renderMaterials(k);

    const outcome = $("case-outcome");
    outcome.replaceChildren();
    const d = k.decision || k.rejection;
    if (d) {
      const title = k.rejection ? "不予受理决定" : k.state === "denied" ? "审批结果：不予批准" : "审批结果：准予";
      const box = el("div", "message " + (k.state === "approved" ? "ok" : "warn"));
      box.append(el("strong", "", title), ` ${when(d.at)}，${d.office}`);
      if (d.reason) box.append(el("br"), `理由：${d.reason}`);
      if (d.legal_basis) box.append(el("br"), `依据：${d.legal_basis}`);
      outcome.append(box);
    }
    outcome.hidden = !d;

    const notices = k.notices || [];
    $("notices-list").replaceChildren(
      ...notices.map((n, i) => {
        const li = document.createElement("li");
        const head = el("p", "notice-head", `${when(n.at)}，${n.office}，告知 ${n.problems.length} 项`);
        if (n.override) head.append(" ", badge("经督办授权", "warn"));
        const link = el("a", "", `打印第 ${i + 1} 次告知书`);
        link.href = `/console/cases/${encodeURIComponent(k.id)}/notice?n=${i + 1}`;
        link.target = "_blank";
        link.rel = "noopener";
        head.append(" ", link);
        const ol = document.createElement("ol");
        for (const p of n.problems) {
          const name = p.material >= 0 && k.materials[p.material] ? k.materials[p.material].name : "其他问题";
          ol.append(el("li", "", `${name}：${p.reason}`));
        }
        li.append(head, ol);
        return li;
      }),
    );
    $("case-notices").hidden = notices.length === 0;

    const escalations = k.escalations || [];
    $("escalations-list").replaceChildren(
      ...escalations.map((e) => el("li", "", `${when(e.at)}，${staffNames.get(e.staff) || "督办人员"}：${e.note}`)),
    );
    $("case-escalations").hidden = escalations.length === 0;

    $("case-timeline").tBodies[0].replaceChildren(
      ...(k.timeline || []).map((e) => {
        const tr = document.createElement("tr");
        tr.append(cell(when(e.at)), cell(actions[e.action] || e.state_label), cell(e.office), cell(e.note || ""),
          cell(e.staff ? e.staff_name || staffNames.get(e.staff) || "工作人员" : "—"));
        return tr;
      }),
    );

    const noticeLink = $("case-notice-link");
    noticeLink.hidden = notices.length === 0;
    noticeLink.href = `/console/cases/${encodeURIComponent(k.id)}/notice`;
    const acceptanceLink = $("case-acceptance-link");
    acceptanceLink.hidden = !k.accepted_at;
    acceptanceLink.href = `/console/cases/${encodeURIComponent(k.id)}/acceptance`;

    for (const tr of table.querySelectorAll("tr")) {
      if (tr.dataset.id === k.id) tr.setAttribute("aria-current", "true");
      else tr.removeAttribute("aria-current");
    }
  }

  // --- The action forms ---

  const form = (id) => $(id);
  const acceptForm = form("accept-form");
  const returnForm = form("return-form");
  const rejectForm = form("reject-form");
  const decideForm = form("decide-form");
  const suspendForm = form("suspend-form");
  const resumeForm = form("resume-form");
  const extendForm = form("extend-form");
  const waiveForm = form("waive-form");
  const escalateForm = form("escalate-form");
  const greenForm = form("green-form");

  // returnRows are the material rows of the return form; sent are the
  // controls of the problems last sent, by the index the server names.
  let sent = [];

  function buildReturnRows(k) {
    const rows = k.materials.map((m) => {
      const row = el("div", "problem-row");
      row.dataset.index = String(m.index);
      const box = document.createElement("input");
      box.type = "checkbox";
      box.id = `return-check-${m.index}`;
      box.value = String(m.index);
      const label = el("label", "check");
      label.htmlFor = box.id;
      const [state] = materialStates[m.status] || [m.status];
      label.append(box, ` ${m.index + 1}. ${m.name}`, el("span", "hint", `（${state}${m.source_label ? "，" + m.source_label : ""}）`));
      const reasonWrap = el("div", "field problem-reason");
      reasonWrap.hidden = true;
      const input = document.createElement("input");
      input.type = "text";
      input.id = `return-reason-${m.index}`;
      input.maxLength = 300;
      input.autocomplete = "off";
      const rl = el("label");
      rl.htmlFor = input.id;
      rl.append(el("span", "visually-hidden", `${m.name}：`), "问题说明");
      reasonWrap.append(rl, input);
      box.addEventListener("change", () => {
        reasonWrap.hidden = !box.checked;
        if (box.checked) input.focus();
      });
      row.append(label, reasonWrap);
      return row;
    });
    $("return-rows").replaceChildren(...rows);
  }

  function buildAccept(k) {
    const list = $("accept-pending-list");
    const pendable = k.materials.filter((m) => m.status === "missing" && m.pendable);
    list.replaceChildren(
      ...pendable.map((m) => {
        const label = el("label", "check");
        const box = document.createElement("input");
        box.type = "checkbox";
        box.name = "pending";
        box.value = String(m.index);
        label.append(box, ` ${m.name}`);
        return label;
      }),
    );
    if (!pendable.length) list.append(el("p", "hint", "本办件没有尚缺且可容缺的材料。"));
    const blocking = k.materials.filter((m) => m.required && m.status === "missing" && !m.pendable);
    let warn = $("accept-missing");
    if (!warn) {
      warn = el("p", "message warn");
      warn.id = "accept-missing";
      acceptForm.querySelector("h3").after(warn);
    }
    warn.textContent = blocking.length ? `尚缺不可容缺的必需材料：${blocking.map((m) => m.name).join("、")}。请退回补正，或核验纸质原件后再受理。` : "";
    warn.hidden = !blocking.length;
  }

  function buildWaive(k) {
    const sel = $("waive-material");
    sel.replaceChildren(...k.materials.filter((m) => m.status === "pending").map((m) => new Option(m.name, String(m.index))));
  }

  function buildGreen(k) {
    $("green-state").textContent = k.green ? "该办件已列入绿色通道，优先办理。" : "该办件未列入绿色通道。仅适用于办事指南标明可走绿色通道的事项。";
    $("green-submit").textContent = k.green ? "取消绿色通道" : "列入绿色通道";
    $("green-reason-field").hidden = k.green;
  }

  function show(f, on) {
    if (f) f.hidden = !on;
    return Boolean(f && on);
  }

  // renderCase draws the case; reset (a new case, or an action that
  // succeeded) also empties and rebuilds the forms.
  function renderCase(k, reset) {
    const other = !current || current.id !== k.id;
    current = k;
    renderInfo(k);
    if (reset || other) {
      for (const f of forms) {
        f.reset();
        clearErrors(f);
      }
      const override = $("return-override");
      if (override) override.hidden = true;
      sent = [];
      if (returnForm) buildReturnRows(k);
      if (acceptForm) buildAccept(k);
      if (waiveForm) buildWaive(k);
      if (greenForm) buildGreen(k);
    }
    const s = k.state;
    const closed = closedStates.includes(s);
    const running = s === "accepted" || s === "suspended" || (s === "returned" && Boolean(k.accepted_at));
    const pending = k.materials.some((m) => m.status === "pending");
    let any = false;
    any = show(acceptForm, roles.clerk && s === "submitted") || any;
    any = show(returnForm, (roles.clerk && s === "submitted") || (roles.approver && s === "accepted")) || any;
    any = show(rejectForm, roles.clerk && s === "submitted") || any;
    any = show(decideForm, roles.approver && s === "accepted") || any;
    any = show(suspendForm, roles.approver && s === "accepted") || any;
    any = show(resumeForm, roles.approver && s === "suspended") || any;
    any = show(extendForm, roles.supervisor && running) || any;
    any = show(waiveForm, roles.supervisor && pending && !closed) || any;
    any = show(escalateForm, roles.supervisor && Boolean(k.clock) && k.clock.level !== "green") || any;
    any = show(greenForm, (roles.clerk || roles.supervisor) && !closed) || any;
    $("case-no-action").hidden = any;
  }

  // bind runs send for a form at most once at a time, with its errors
  // cleared first and its submit button disabled meanwhile.
  function bind(f, send) {
    if (!f) return;
    let busy = false;
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (busy || !current) return;
      busy = true;
      const button = f.querySelector('button[type="submit"]');
      button.disabled = true;
      f.setAttribute("aria-busy", "true");
      clearErrors(f);
      done.hidden = true;
      panelMessage.hidden = true;
      try {
        await send(current);
      } finally {
        busy = false;
        button.disabled = false;
        f.removeAttribute("aria-busy");
      }
    });
  }

  // act posts an action of the case in the panel. On success the panel is
  // redrawn from the answer and doneText (a function of the new case) is
  // said; on refusal the form shows why and keeps what was typed.
  async function act(f, k, path, body, doneText, opts = {}) {
    const r = await api("POST", `/api/v1/staff/cases/${encodeURIComponent(k.id)}/${path}`, body);
    if (!r.ok) {
      if (sessionEnded(r)) return false;
      if (opts.problem) opts.problem(r.problem);
      showErrors(f, r.problem, r.retryAfter, opts.resolve);
      return false;
    }
    renderCase(r.data, true);
    say(doneText(r.data));
    loadWorklist();
    return true;
  }

  function localError(f, field, message) {
    showErrors(f, { detail: "输入有误，请检查后重试", errors: [{ field, message }] });
  }

  bind(acceptForm, async (k) => {
    const pending = [...acceptForm.querySelectorAll('input[name="pending"]:checked')].map((b) => Number(b.value));
    const commitment = acceptForm.elements.commitment.value.trim();
    if (pending.length && !commitment) {
      localError(acceptForm, "commitment", "容缺受理须填写申请人的承诺");
      return;
    }
    await act(acceptForm, k, "accept", { pending, commitment }, (c) => {
      const due = c.clock ? `，承诺 ${c.clock.due_day} 前办结` : "";
      return `已受理办件 ${c.number}${due}${pending.length ? `；容缺 ${pending.length} 项` : ""}。可打印受理通知书交申请人。`;
    });
  });

  bind(returnForm, async (k) => {
    const rows = [...$("return-rows").querySelectorAll(".problem-row")];
    const problems = [];
    sent = [];
    for (const row of rows) {
      const box = row.querySelector('input[type="checkbox"]');
      if (!box.checked) continue;
      const input = row.querySelector('input[type="text"]');
      problems.push({ material: Number(row.dataset.index), reason: input.value.trim() });
      sent.push(input);
    }
    const other = returnForm.elements.other;
    if (other.value.trim()) {
      problems.push({ material: -1, reason: other.value.trim() });
      sent.push(other);
    }
    const resolve = (field) => {
      const m = /^problems\[(\d+)\]/.exec(field || "");
      const input = m ? sent[Number(m[1])] : null;
      if (input) return { focus: input, described: input, after: input };
      if (field === "problems") return { focus: other, described: other, after: $("return-other-hint") };
      return null;
    };
    if (!problems.length) {
      showErrors(returnForm, { detail: "请勾选需要补正的材料并写明问题，或填写其他问题。", errors: [] });
      return;
    }
    const empty = problems.map((p, i) => (p.reason ? null : { field: `problems[${i}].reason`, message: "请写明问题" })).filter(Boolean);
    if (empty.length) {
      showErrors(returnForm, { detail: "输入有误，请检查后重试", errors: empty }, null, resolve);
      return;
    }
    const body = { problems };
    const o = returnForm.elements;
    const overrideBox = $("return-override");
    if (!overrideBox.hidden && (o["override.username"].value.trim() || o["override.password"].value || o["override.reason"].value.trim())) {
      body.override = {
        username: o["override.username"].value.trim(),
        password: o["override.password"].value,
        reason: o["override.reason"].value.trim(),
      };
    }
    await act(returnForm, k, "return", body, (c) => `办件 ${c.number} 已退回补正，一次告知 ${problems.length} 项。请打印一次性告知书交申请人。`, {
      resolve,
      problem: (p) => {
        if (p.code === "notice_repeat") {
          overrideBox.hidden = false;
          p.detail = `${p.detail}。下面标出的问题不能再次提出：可取消勾选后重新退回，或请督办人员在“督办人员授权”中当面授权。`;
        }
        // Wrong credentials are typed again; everything else stays.
        if (body.override) o["override.password"].value = "";
      },
    });
  });

  bind(rejectForm, async (k) => {
    const e = rejectForm.elements;
    await act(rejectForm, k, "reject", { reason: e.reason.value, legal_basis: e.legal_basis.value }, (c) => `已对办件 ${c.number} 作出不予受理决定。`);
  });

  bind(decideForm, async (k) => {
    const e = decideForm.elements;
    const choice = e.approve.value;
    if (choice !== "true" && choice !== "false") {
      localError(decideForm, "approve", "请选择准予或不予批准");
      return;
    }
    const approve = choice === "true";
    await act(decideForm, k, "decide", { approve, reason: e.reason.value, legal_basis: e.legal_basis.value },
      (c) => (approve ? `办件 ${c.number} 已审批通过，已办结。` : `已对办件 ${c.number} 作出不予批准决定。`), {
        problem: (p) => {
          if (p.code === "pending_materials") {
            p.detail = `不能办结：${p.detail}。申请人可在小程序补交；确实无法补交的，可请督办人员豁免。`;
          }
        },
      });
  });

  bind(suspendForm, async (k) => {
    await act(suspendForm, k, "suspend", { reason: suspendForm.elements.reason.value }, (c) => `办件 ${c.number} 已中止，暂停计时。`);
  });

  bind(resumeForm, async (k) => {
    await act(resumeForm, k, "resume", undefined, (c) => `办件 ${c.number} 已恢复办理，继续计时。`);
  });

  bind(extendForm, async (k) => {
    const e = extendForm.elements;
    const days = Number(e.days.value);
    if (!Number.isInteger(days) || days < 1 || days > 30) {
      localError(extendForm, "days", "请填写 1 至 30 的整数");
      return;
    }
    await act(extendForm, k, "extend", { days, reason: e.reason.value }, (c) => `已批准办件 ${c.number} 延长 ${days} 个工作日。`);
  });

  bind(waiveForm, async (k) => {
    const e = waiveForm.elements;
    const n = e.material.value;
    if (n === "") {
      localError(waiveForm, "material", "没有容缺待补的材料");
      return;
    }
    const name = k.materials[Number(n)].name;
    await act(waiveForm, k, `materials/${encodeURIComponent(n)}/waive`, { reason: e.reason.value }, () => `已豁免容缺材料“${name}”。`);
  });

  bind(escalateForm, async (k) => {
    await act(escalateForm, k, "escalate", { note: escalateForm.elements.note.value }, (c) => `已督办办件 ${c.number}。`);
  });

  bind(greenForm, async (k) => {
    const on = !k.green;
    await act(greenForm, k, "green", { on, reason: on ? greenForm.elements.reason.value : "" },
      (c) => (on ? `办件 ${c.number} 已列入绿色通道。` : `办件 ${c.number} 已取消绿色通道。`));
  });

  // A notice page's "返回办件工作台" link names the case in the address.
  const wanted = /^#case=(cs[0-9A-Za-z]+)$/.exec(location.hash);
  loadWorklist();
  if (wanted) openCase(wanted[1], true);
  setInterval(loadWorklist, 30 * 1000);
}
