// 过号恢复 (/kiosk/reactivate): a citizen whose number was called while
// they were away keys it in, a letter and then digits, on large keys (a
// kiosk has no keyboard, and the citizen may be 80), and the ticket goes
// back to the end of its sector's line, once. A number taken with an ID
// card needs that card in the reader; the page sends the card's session
// when there is one. The ticket then shows as 取号 shows a new one, and
// prints when the kiosk has a printer.
import { call, hideProblem, printTicket, problemOf, readCard, showProblem, showTicket, watchCard } from "/static/kiosk-queue-view.js";

const $ = (id) => document.getElementById(id);
const root = $("reactivate");
const cardState = $("card-state");
const entry = $("entry");
const go = $("reactivate-go");
const letterKeys = [...document.querySelectorAll("button.letter-key")];
const digitKeys = [...document.querySelectorAll("button.digit-key[data-digit]")];
const allKeys = [...root.querySelectorAll("button")];

// maxDigits bounds what a citizen can key: numbers print with three digits
// and a busy day may reach four.
const maxDigits = 4;
const placeholder = entry.textContent;

// titles head this page's refusals where the shared ones would mislead.
const titles = {
  not_found: "没有查到这个号码",
  forbidden: "请刷本人身份证",
  ticket_state: "这个号码不需要恢复",
  already_reactivated: "过号只能恢复一次",
  active_ticket: "您在这个板块已经有排队号了",
  invalid_input: "请输入号码",
};

let letter = "";
let digits = "";

function showEntry() {
  const number = letter + digits;
  entry.textContent = number || placeholder;
  entry.dataset.empty = String(!number);
  for (const b of letterKeys) b.setAttribute("aria-pressed", String(b.dataset.letter === letter));
}

function edited() {
  hideProblem();
  showEntry();
}

for (const b of letterKeys) {
  b.addEventListener("click", () => {
    letter = b.dataset.letter;
    edited();
  });
}
for (const b of digitKeys) {
  b.addEventListener("click", () => {
    if (digits.length < maxDigits) digits += b.dataset.digit;
    edited();
  });
}
$("key-back").addEventListener("click", () => {
  if (digits) digits = digits.slice(0, -1);
  else letter = "";
  edited();
});
$("key-clear").addEventListener("click", () => {
  letter = "";
  digits = "";
  edited();
});

// card is the card in the reader, as last read: {token, holder}.
let card = { token: "", holder: null };

function showCard() {
  if (card.holder) {
    cardState.dataset.state = "card";
    cardState.textContent = `${card.holder.name_masked}，您好：刷身份证取的号将按您的身份证恢复。`;
  } else {
    cardState.dataset.state = "walk-in";
    cardState.textContent = card.stale
      ? "身份证信息已失效，请重新刷卡；不刷身份证也可恢复未实名的号码。"
      : "未刷身份证：不刷身份证取的号可直接恢复。";
  }
}

async function refreshCard() {
  if (root.hidden) return; // a ticket is on screen
  card = await readCard();
  if (card.problem) showProblem(card.problem);
  showCard();
}

let busy = false;

async function reactivate() {
  if (busy) return;
  if (!letter || !digits) {
    showProblem({
      code: "incomplete",
      title: letter ? "请按号码中的数字" : "请先按号码开头的字母",
      detail: "号码印在排队小票上，由一个字母和几位数字组成，例如 C023：先按字母 C，再按 0、2、3。",
    });
    return;
  }
  busy = true;
  for (const b of allKeys) b.setAttribute("aria-disabled", "true");
  root.setAttribute("aria-busy", "true");
  hideProblem();
  const before = cardState.textContent;
  cardState.textContent = "正在恢复，请稍候……";
  try {
    const holder = card.holder;
    const r = await call("POST", "/api/v1/kiosk/tickets/reactivate", { number: letter + digits }, holder ? card.token : "");
    if (r.res && r.res.ok && r.data) {
      root.hidden = true;
      // The ticket may be a walk-in's even with a card in the reader:
      // the answer does not say, so no holder is printed.
      showTicket(r.data, "", "过号已恢复，请留意叫号");
      await printTicket(root.dataset.print);
      return;
    }
    const p = problemOf(r, titles);
    if (p.code === "unauthorized" && holder) {
      card = { token: card.token, holder: null, stale: true };
      showCard();
    } else {
      cardState.textContent = before;
    }
    // Once is once: a new ticket gets the citizen served.
    showProblem(p, p.code === "already_reactivated" ? "重新取号" : false);
  } finally {
    busy = false;
    for (const b of allKeys) b.removeAttribute("aria-disabled");
    root.removeAttribute("aria-busy");
  }
}

go.addEventListener("click", reactivate);

// A keyboard, where there is one (an attendant's, or assistive
// technology), types as the keys do.
document.addEventListener("keydown", (ev) => {
  if (root.hidden || ev.ctrlKey || ev.altKey || ev.metaKey) return;
  const k = ev.key.length === 1 ? ev.key.toUpperCase() : ev.key;
  const target =
    digitKeys.find((b) => b.dataset.digit === k) ||
    letterKeys.find((b) => b.dataset.letter === k) ||
    (k === "Backspace" ? $("key-back") : null);
  if (!target) return;
  ev.preventDefault();
  target.click();
});

showEntry();
refreshCard();
watchCard(refreshCard);
