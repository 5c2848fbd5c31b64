// 取号 (/kiosk/ticket): a button per sector with the number of people
// waiting, kept current from the public board. With an ID card in the
// reader the ticket is the card holder's (one per sector, and people of 70
// and over are served first); without one it is a walk-in's. Before that a
// citizen may declare a priority group (残疾人, 孕妇): it counts only once
// staff have seen the papers and confirmed it, so the ticket says it is
// pending. The ticket then shows as printed, and prints when the kiosk has
// a printer.
import { call, hideProblem, printTicket, problemOf, readCard, showProblem, showTicket, watchCard } from "/static/kiosk-queue-view.js";

const $ = (id) => document.getElementById(id);
const root = $("take");
const cardState = $("card-state");
const buttons = [...document.querySelectorAll("button.take-sector")];
const declareButtons = [...document.querySelectorAll("button.declare-option")];
const declareState = $("declare-state");
const center = root.dataset.center || "";

// declaredNames name the priority groups a citizen may declare, as the
// ticket prints them.
const declaredNames = { disabled: "残疾人", pregnant: "孕妇" };

// busy is set while a ticket is being taken.
let busy = false;

// declared is the group the citizen chose, "" for none. Touching the chosen
// button again takes the choice back.
let declared = "";

function showDeclared() {
  for (const b of declareButtons) b.setAttribute("aria-pressed", String(b.dataset.declare === declared));
  declareState.dataset.declared = declared;
  declareState.textContent = declared
    ? `已选择：${declaredNames[declared]}优先申报（再按一次可取消）。取号后请出示相关证件，经工作人员核实后优先办理。`
    : "未申报优先：按普通号排队。";
}

for (const b of declareButtons) {
  b.addEventListener("click", () => {
    if (busy) return;
    declared = declared === b.dataset.declare ? "" : b.dataset.declare;
    showDeclared();
  });
}

// card is the card in the reader, as last read: {token, holder}.
let card = { token: "", holder: null };

function showCard() {
  if (card.holder) {
    cardState.dataset.state = "card";
    cardState.textContent = `${card.holder.name_masked}，您好：将按您的身份证取号。`;
  } else {
    cardState.dataset.state = "walk-in";
    cardState.textContent = card.stale
      ? "身份证信息已失效，请重新刷卡；不刷身份证也可直接取号。"
      : "未刷身份证：无身份证也可取号，请直接选择板块。";
  }
}

async function refreshCard() {
  card = await readCard();
  if (card.problem) {
    // The kiosk cannot ask (not set up, or offline): say so now, not
    // only after a citizen has chosen a sector.
    showProblem(card.problem);
  }
  showCard();
}

async function take(sector) {
  if (busy) return;
  busy = true;
  for (const b of [...buttons, ...declareButtons]) b.setAttribute("aria-disabled", "true");
  root.setAttribute("aria-busy", "true");
  hideProblem();
  const before = cardState.textContent;
  cardState.textContent = "正在取号，请稍候……";
  try {
    const holder = card.holder;
    const body = declared ? { sector, declared } : { sector };
    const r = await call("POST", "/api/v1/kiosk/tickets", body, holder ? card.token : "");
    if (r.res && r.res.status === 201 && r.data) {
      root.hidden = true;
      // The server's word on the declaration: a card holder of 70 and over
      // is served first anyway, and their ticket carries no declaration.
      const pending = declaredNames[r.data.declared];
      showTicket(r.data, holder ? holder.name_masked : "", pending ? `优先申报待确认（${pending}）` : "");
      await printTicket(root.dataset.print);
      return;
    }
    const p = problemOf(r);
    if (p.code === "unauthorized" && holder) {
      // The card's session ended meanwhile: the next ticket is a walk-in's
      // unless the card is read again.
      card = { token: card.token, holder: null, stale: true };
      showCard();
    } else {
      cardState.textContent = before;
    }
    showProblem(p);
  } finally {
    busy = false;
    for (const b of [...buttons, ...declareButtons]) b.removeAttribute("aria-disabled");
    root.removeAttribute("aria-busy");
  }
}

for (const b of buttons) {
  b.addEventListener("click", () => take(b.dataset.sector));
}

// The waiting counts come from the public board, as on the lobby screen.
const pollSeconds = 5;
async function refreshCounts() {
  if (root.hidden) return; // a ticket is on screen
  try {
    const res = await fetch("/api/v1/display/" + encodeURIComponent(center) + "/board", { headers: { Accept: "application/json" }, cache: "no-store" });
    if (!res.ok) return;
    const board = await res.json();
    for (const w of board.waiting || []) {
      const el = root.querySelector(`[data-waiting="${CSS.escape(w.sector)}"]`);
      if (el) el.textContent = String(w.waiting);
    }
  } catch {
    // The counts stay as they were; taking a ticket does not need them.
  }
}

refreshCard();
watchCard(refreshCard);
setInterval(refreshCounts, pollSeconds * 1000);
