// 排队情况 (/kiosk/queue): the waiting counts of the center's sectors and
// its latest calls, from the public board (GET /api/v1/display/{center}/board)
// every few seconds. The page arrives filled in by the server.
const state = document.getElementById("board-state");
const waiting = document.querySelector("#waiting tbody");
const calls = document.getElementById("calls");
const callsEmpty = document.getElementById("calls-empty");
const center = state.dataset.center || "";
const pollSeconds = Number(state.dataset.pollSeconds) || 5;

// The same words as statusLabel in kiosk/display.go.
const labels = { called: "请前往", done: "已办结", missed: "已过号", parked: "暂缓办理" };
function statusLabel(c) {
  if (c.status === "called" && c.calls > 1) return "再次呼叫";
  return labels[c.status] || "";
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function render(board) {
  waiting.replaceChildren(...(board.waiting || []).map((s) => {
    const tr = el("tr");
    tr.dataset.sector = s.sector;
    const th = el("th", "", s.name);
    th.scope = "row";
    tr.append(th, el("td", "", String(s.waiting)));
    return tr;
  }));
  const list = board.calls || [];
  calls.replaceChildren(...list.map((c) => {
    const li = el("li");
    li.dataset.number = c.number;
    li.append(el("span", "call-number", c.number), el("span", "call-window", c.window), el("span", "call-status", statusLabel(c)));
    return li;
  }));
  callsEmpty.hidden = list.length > 0;
}

// clock is the time now on the center's wall clock, whatever the kiosk's
// time zone setting.
const wallClock = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
function clock() {
  return wallClock.format(new Date());
}

async function refresh() {
  try {
    const res = await fetch("/api/v1/display/" + encodeURIComponent(center) + "/board", { headers: { Accept: "application/json" }, cache: "no-store" });
    if (!res.ok) throw new Error(String(res.status));
    render(await res.json());
    state.dataset.state = "ok";
    state.textContent = `每 ${pollSeconds} 秒自动刷新 · 更新于 ${clock()}`;
  } catch {
    state.dataset.state = "stale";
    state.textContent = "暂时无法更新，正在重试……";
  }
}

setInterval(refresh, pollSeconds * 1000);
