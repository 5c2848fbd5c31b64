// 报表 (/console/reports): the daily notice (GET
// /api/v1/staff/reports/daily), the monthly summary (…/monthly) and the
// weekly spot check (…/spot-check), each for the period picked in its
// form. Figures are shown in tables; the charts (uPlot, vendored in
// /static/vendor/uplot/) draw the same numbers and are named by their
// captions, the tables being their text equivalent. A spot-check item is
// marked 合格 or 有问题 with an optional note (POST …/spot-check/marks);
// the row then shows the saved mark as the server answered it.

import { api, sessionEnded, el, badge, timeText } from "/static/console-api.js";

const $ = (id) => document.getElementById(id);
const uPlot = window.uPlot;

const sectorNames = new Map(
  [...document.querySelectorAll("#sector-names li")].map((li) => [li.dataset.code, li.dataset.name]),
);
const staffNames = new Map(
  [...document.querySelectorAll("#staff-names li")].map((li) => [li.dataset.id, li.dataset.name]),
);
const windowNames = new Map();

const sectorName = (code) => sectorNames.get(code) || code;
const windowName = (id) => windowNames.get(id) || id;
const minutes = (sec) => (sec / 60).toFixed(1);
const percent = (permil) => (permil / 10).toFixed(1) + "%";

// The columns of a figures table, after the first (板块 or 窗口).
const figureColumns = [
  ["取号数", (f) => f.tickets],
  ["已办结号数", (f) => f.served],
  ["平均等候（分钟）", (f) => minutes(f.avg_wait_sec)],
  ["90% 等候（分钟）", (f) => minutes(f.p90_wait_sec)],
  ["受理件数", (f) => f.accepted],
  ["办结件数", (f) => f.concluded],
  ["超期件数", (f) => f.overdue],
  ["评价数", (f) => f.evaluations],
  ["差评数", (f) => f.bad_reviews],
  ["整改中", (f) => f.rectify_open],
  ["已整改", (f) => f.rectify_closed],
  ["未立整改", (f) => f.rectify_none],
];

function fillTable(table, head, rows) {
  table.replaceChildren();
  const thead = el("thead");
  const tr = el("tr");
  for (const h of head) {
    const th = el("th", "", h);
    th.scope = "col";
    tr.append(th);
  }
  thead.append(tr);
  const tbody = el("tbody");
  for (const r of rows) {
    const row = el("tr");
    r.forEach((v, i) => {
      const c = el(i === 0 ? "th" : "td", "", String(v));
      if (i === 0) c.scope = "row";
      row.append(c);
    });
    tbody.append(row);
  }
  if (rows.length === 0) {
    const row = el("tr");
    const c = el("td", "", "本期没有数据");
    c.colSpan = head.length;
    row.append(c);
    tbody.append(row);
  }
  table.append(thead, tbody);
}

function figuresTable(table, first, figures, name, total) {
  const rows = figures.map((f) => [name(f.key), ...figureColumns.map(([, v]) => v(f))]);
  if (total) rows.push(["合计", ...figureColumns.map(([, v]) => v(total))]);
  fillTable(table, [first, ...figureColumns.map(([h]) => h)], rows);
}

function facts(dl, pairs) {
  dl.replaceChildren();
  for (const [k, v] of pairs) {
    const d = el("div");
    d.append(el("dt", "", k), el("dd", "", String(v)));
    dl.append(d);
  }
}

function totalFacts(t) {
  return [
    ["取号数", t.tickets],
    ["已办结号数", t.served],
    ["平均等候", minutes(t.avg_wait_sec) + " 分钟"],
    ["90% 等候", minutes(t.p90_wait_sec) + " 分钟"],
    ["受理件数", t.accepted],
    ["办结件数", t.concluded],
    ["超期件数", t.overdue],
    ["评价数", t.evaluations],
    ["差评数", t.bad_reviews],
  ];
}

// Charts. Each is redrawn from scratch when its report reloads.
const charts = new Map();

function chartWidth(box) {
  return Math.max(280, Math.min(box.clientWidth || 600, 900));
}

function draw(boxId, opts, data) {
  const box = $(boxId);
  charts.get(boxId)?.destroy();
  charts.delete(boxId);
  box.replaceChildren();
  if (!uPlot || data[0].length === 0) {
    box.append(el("p", "hint", "本期没有数据"));
    return;
  }
  opts.width = chartWidth(box);
  opts.height = 240;
  opts.legend = { show: false };
  charts.set(boxId, new uPlot(opts, data, box));
}

// categoryAxis labels the indexes 0…n-1 of the x scale with names.
function categoryAxis(names) {
  return {
    splits: () => names.map((_, i) => i),
    values: (_, splits) => splits.map((i) => names[i] ?? ""),
    grid: { show: false },
  };
}

const blue = "#1d5fa8";
const orange = "#a4520a";

function sectorChart(boxId, bySector) {
  const names = bySector.map((f) => sectorName(f.key));
  const xs = names.map((_, i) => i);
  draw(
    boxId,
    {
      scales: { x: { time: false, range: [-0.5, Math.max(names.length - 0.5, 0.5)] }, n: {}, min: {} },
      axes: [categoryAxis(names), { scale: "n", label: "取号数" }, { scale: "min", side: 1, label: "分钟", grid: { show: false } }],
      series: [
        {},
        { label: "取号数", scale: "n", stroke: blue, fill: blue + "99", paths: uPlot?.paths.bars({ size: [0.5, 60] }), points: { show: false } },
        { label: "平均等候（分钟）", scale: "min", stroke: orange, width: 2, points: { show: true, size: 6 } },
      ],
    },
    [xs, bySector.map((f) => f.tickets), bySector.map((f) => Number(minutes(f.avg_wait_sec)))],
  );
}

function trendChart(boxId, points) {
  const names = points.map((p) => p.period);
  draw(
    boxId,
    {
      scales: { x: { time: false, range: [-0.5, Math.max(names.length - 0.5, 0.5)] }, permil: { range: [0, 1000] }, level: { range: [1, 5] } },
      axes: [categoryAxis(names), { scale: "permil", label: "满意率 ‰" }, { scale: "level", side: 1, label: "平均分", grid: { show: false } }],
      series: [
        {},
        { label: "满意率（‰）", scale: "permil", stroke: blue, width: 2, points: { show: true, size: 6 } },
        { label: "平均分", scale: "level", stroke: orange, width: 2, dash: [6, 4], points: { show: true, size: 6 } },
      ],
    },
    [names.map((_, i) => i), points.map((p) => p.satisfied_permil), points.map((p) => p.avg_level_x100 / 100)],
  );
}

function trendTable(table, caption, points) {
  fillTable(
    table,
    [caption, "评价数", "满意率", "平均分"],
    points.map((p) => [p.period, p.evaluations, percent(p.satisfied_permil), (p.avg_level_x100 / 100).toFixed(2)]),
  );
  const cap = el("caption", "", caption === "日期" ? "每日满意度" : "每周满意度");
  table.prepend(cap);
}

function status(id, text) {
  $(id).textContent = text;
}

function failed(id, r) {
  if (sessionEnded(r)) return;
  status(id, [r.problem.detail, ...(r.problem.errors || []).map((e) => e.message)].filter(Boolean).join(" "));
}

async function loadDaily() {
  const date = $("daily-date").value;
  if (!date) {
    status("daily-status", "请选择日期。");
    return;
  }
  $("daily-xlsx").href = "/api/v1/staff/reports/daily.xlsx?date=" + encodeURIComponent(date);
  status("daily-status", "正在加载日通报…");
  const r = await api("GET", "/api/v1/staff/reports/daily?date=" + encodeURIComponent(date));
  if (!r.ok) {
    $("daily-body").hidden = true;
    failed("daily-status", r);
    return;
  }
  const d = r.data;
  status("daily-status", `${d.date} 日通报：取号 ${d.total.tickets} 个，办结 ${d.total.served} 个。`);
  $("daily-body").hidden = false;
  facts($("daily-total"), totalFacts(d.total));
  figuresTable($("daily-sector"), "板块", d.by_sector, sectorName, d.total);
  figuresTable($("daily-window"), "窗口", d.by_window, windowName);
  sectorChart("daily-chart", d.by_sector);
}

async function loadMonthly() {
  const month = $("monthly-month").value;
  if (!month) {
    status("monthly-status", "请选择月份。");
    return;
  }
  $("monthly-xlsx").href = "/api/v1/staff/reports/monthly.xlsx?month=" + encodeURIComponent(month);
  status("monthly-status", "正在加载月汇总…");
  const r = await api("GET", "/api/v1/staff/reports/monthly?month=" + encodeURIComponent(month));
  if (!r.ok) {
    $("monthly-body").hidden = true;
    failed("monthly-status", r);
    return;
  }
  const m = r.data;
  status("monthly-status", `${m.month} 月汇总：取号 ${m.total.tickets} 个，提交办件 ${m.submitted} 件。`);
  $("monthly-body").hidden = false;
  facts($("monthly-total"), [
    ...totalFacts(m.total),
    ["网办率", `${percent(m.online_permil)}（${m.online} / ${m.submitted} 件）`],
    ["最多跑一次占比", `${percent(m.one_visit_permil)}（${m.one_visit} 件）`],
    ["电子证照免提交材料", m.ecert_materials],
    ["复用材料", m.reused_materials],
    ["免提交合计", m.not_submitted],
    ["零办理事项", m.zero_matters.length],
  ]);
  figuresTable($("monthly-sector"), "板块", m.by_sector, sectorName, m.total);
  figuresTable($("monthly-window"), "窗口", m.by_window, windowName);
  sectorChart("monthly-chart", m.by_sector);
  trendTable($("trend-daily"), "日期", m.daily_trend);
  trendTable($("trend-weekly"), "周", m.weekly_trend);
  trendChart("trend-daily-chart", m.daily_trend);
  trendChart("trend-weekly-chart", m.weekly_trend);
  $("zero-hint").textContent = m.zero_matters.length
    ? `近 ${m.zero_months} 个月没有办件的在用事项共 ${m.zero_matters.length} 项。`
    : `近 ${m.zero_months} 个月每个在用事项都有办件。`;
  $("zero-summary").textContent = `查看 ${m.zero_matters.length} 项零办理事项`;
  const list = $("zero-list");
  list.replaceChildren();
  for (const z of m.zero_matters) list.append(el("li", "", `${z.name}（${z.code}，${sectorName(z.sector)}）`));
  if (m.zero_matters.length === 0) list.append(el("li", "", "没有零办理事项"));
}

// Spot check.
const verdicts = { ok: ["合格", "ok"], problem: ["有问题", "bad"] };
let spotWeek = "";
let spotItems = [];

function spotStatus() {
  const marked = spotItems.filter((it) => it.mark).length;
  status(
    "spot-status",
    spotItems.length ? `${spotWeek} 抽查 ${spotItems.length} 项，已标记 ${marked} 项。` : `${spotWeek} 没有可抽查的办件或排队号。`,
  );
}

function markCell(td, mark) {
  td.replaceChildren();
  if (!mark) {
    td.append(badge("未标记", "off"));
    return;
  }
  const [text, kind] = verdicts[mark.verdict] || [mark.verdict, "warn"];
  td.append(badge(text, kind));
  if (mark.note) td.append(el("span", "mark-note", mark.note));
  td.append(el("span", "hint mark-by", `${staffNames.get(mark.by) || mark.by} · ${timeText(mark.at, "—")}`));
}

function spotRow(it, n) {
  const tr = el("tr");
  tr.dataset.kind = it.kind;
  tr.dataset.id = it.id;
  const kind = it.kind === "case" ? "办件" : "排队号";
  const num = el("th", "", it.number || it.id);
  num.scope = "row";
  num.id = `spot-num-${n}`;
  const where = it.kind === "case" ? it.matter || "—" : it.window ? windowName(it.window) : "—";
  tr.append(el("td", "", kind), num, el("td", "", sectorName(it.sector)), el("td", "", where), el("td", "", timeText(it.at, "—")));
  const verdict = el("td", "mark");
  markCell(verdict, it.mark);
  const act = el("div", "mark-actions");
  const label = el("label", "visually-hidden", `${kind} ${it.number || it.id} 的备注`);
  label.htmlFor = `spot-note-${n}`;
  const note = el("input");
  note.type = "text";
  note.id = `spot-note-${n}`;
  note.maxLength = 500;
  note.placeholder = "备注（选填）";
  note.autocomplete = "off";
  note.value = it.mark?.note || "";
  act.append(label, note);
  for (const v of ["ok", "problem"]) {
    const b = el("button", "button small" + (v === "problem" ? " danger" : ""), verdicts[v][0]);
    b.type = "button";
    b.dataset.verdict = v;
    b.setAttribute("aria-describedby", num.id);
    act.append(b);
  }
  const actCell = el("td");
  actCell.append(act);
  tr.append(verdict, actCell);
  return tr;
}

function spotSay(text, ok) {
  $(ok ? "spot-message" : "spot-done").hidden = true;
  const box = $(ok ? "spot-done" : "spot-message");
  box.textContent = text;
  box.hidden = false;
  if (!ok) box.focus();
}

async function loadSpot() {
  const week = $("spot-week").value;
  if (!week) {
    status("spot-status", "请选择周。");
    return;
  }
  status("spot-status", "正在加载周抽查…");
  const r = await api("GET", "/api/v1/staff/reports/spot-check?week=" + encodeURIComponent(week));
  const table = $("spot-list");
  if (!r.ok) {
    table.hidden = true;
    failed("spot-status", r);
    return;
  }
  spotWeek = r.data.week;
  spotItems = r.data.items;
  spotStatus();
  table.tBodies[0].replaceChildren(...spotItems.map(spotRow));
  table.hidden = spotItems.length === 0;
}

async function mark(button) {
  const tr = button.closest("tr");
  const note = tr.querySelector("input").value;
  const number = tr.querySelector("th").textContent;
  button.disabled = true;
  const r = await api("POST", "/api/v1/staff/reports/spot-check/marks", {
    week: spotWeek,
    kind: tr.dataset.kind,
    id: tr.dataset.id,
    verdict: button.dataset.verdict,
    note,
  });
  button.disabled = false;
  if (!r.ok) {
    if (sessionEnded(r)) return;
    spotSay([r.problem.detail, ...(r.problem.errors || []).map((e) => e.message)].filter(Boolean).join(" "), false);
    return;
  }
  markCell(tr.querySelector("td.mark"), r.data);
  const item = spotItems.find((it) => it.kind === r.data.kind && it.id === r.data.id);
  if (item) item.mark = r.data;
  spotStatus();
  spotSay(`已标记 ${number}：${verdicts[r.data.verdict][0]}`, true);
}

async function loadWindows() {
  const r = await api("GET", "/api/v1/staff/windows");
  if (r.ok) for (const w of r.data.items || []) windowNames.set(w.id, w.name);
}

function onSubmit(id, load) {
  $(id).addEventListener("submit", (e) => {
    e.preventDefault();
    load();
  });
}

if ($("reports")) {
  onSubmit("daily-form", loadDaily);
  onSubmit("monthly-form", loadMonthly);
  onSubmit("spot-form", loadSpot);
  $("spot-list").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-verdict]");
    if (b) mark(b);
  });
  loadWindows().then(() => Promise.all([loadDaily(), loadMonthly(), loadSpot()]));
}
