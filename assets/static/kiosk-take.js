// 取号 (/kiosk/ticket): a button per sector with the number of people
// waiting, kept current from the public board. With an ID card in the
// reader the ticket is the card holder's (one per sector, and people of 70
// and over are served first); without one it is a walk-in's. The ticket
// then shows as printed, and prints when the kiosk has a printer.
import { call, hideProblem, printTicket, problemOf, readCard, showProblem, showTicket, watchCard } from "/static/kiosk-queue-view.js";

const $ = (id) => document.getElementById(id);
const root = $("take");
const cardState = $("card-state");
const buttons = [...document.querySelectorAll("button.take-sector")];
const center = root.dataset.center || "";

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

let busy = false;

async function take(sector) {
  if (busy) return;
  busy = true;
  for (const b of buttons) b.setAttribute("aria-disabled", "true");
  root.setAttribute("aria-busy", "true");
  hideProblem();
  const before = cardState.textContent;
  cardState.textContent = "正在取号，请稍候……";
  try {
    const holder = card.holder;
    const r = await call("POST", "/api/v1/kiosk/tickets", { sector }, holder ? card.token : "");
    if (r.res && r.res.status === 201 && r.data) {
      root.hidden = true;
      showTicket(r.data, holder ? holder.name_masked : "");
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
    for (const b of buttons) b.removeAttribute("aria-disabled");
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
