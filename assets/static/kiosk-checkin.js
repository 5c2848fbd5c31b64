// 预约签到 (/kiosk/check-in): the card holder signs in their appointment of
// today at this center and gets an appointment-priority ticket. Without a
// card in the reader the page asks for one, and goes on by itself once the
// card-reader bridge has read it. A refusal says why: too early (and from
// when), too late (with a way to a normal ticket), or no appointment.
import { call, hideProblem, printTicket, problemOf, readCard, showProblem, showTicket, watchCard } from "/static/kiosk-queue-view.js";

const $ = (id) => document.getElementById(id);
const root = $("checkin");
const state = $("checkin-state");
const needCard = $("need-card");
const ready = $("ready");
const button = $("check-in");

let card = { token: "", holder: null };

function show(s) {
  root.dataset.state = s;
  needCard.hidden = s !== "need-card";
  ready.hidden = s !== "ready";
}

async function refreshCard() {
  if (root.hidden) return; // a ticket is on screen
  card = await readCard();
  hideProblem();
  if (card.holder) {
    state.textContent = `${card.holder.name_masked}，您好：请按“签到”。`;
    show("ready");
    return;
  }
  if (card.problem) {
    state.textContent = "";
    show("refused");
    showProblem(card.problem);
    return;
  }
  state.textContent = card.stale ? "身份证信息已失效，请重新刷卡。" : "没有读取到身份证。";
  show("need-card");
}

// clock is an appointment's start as the center's wall clock.
function clock(s) {
  const m = /T(\d\d:\d\d)/.exec(s || "");
  return m ? m[1] : "";
}

let busy = false;
async function checkIn() {
  if (busy) return;
  if (!card.holder) {
    show("need-card");
    return;
  }
  busy = true;
  button.setAttribute("aria-disabled", "true");
  root.setAttribute("aria-busy", "true");
  hideProblem();
  state.textContent = "正在签到，请稍候……";
  try {
    const holder = card.holder;
    const r = await call("POST", "/api/v1/kiosk/check-in", undefined, card.token);
    if (r.res && r.res.status === 201 && r.data && r.data.ticket) {
      root.hidden = true;
      showTicket(r.data.ticket, holder.name_masked, "预约时间 " + clock(r.data.start));
      await printTicket(root.dataset.print);
      return;
    }
    const p = problemOf(r);
    if (p.code === "unauthorized") {
      // The card's session is over: read the card again.
      card = { token: card.token, holder: null, stale: true };
      state.textContent = "身份证信息已失效，请重新刷卡。";
      show("need-card");
      return;
    }
    state.textContent = `${holder.name_masked}，您好。`;
    show("refused");
    // Too late or no appointment today: a normal ticket still gets the
    // citizen served.
    showProblem(p, p.code === "checkin_too_late" || p.code === "not_found");
  } finally {
    busy = false;
    button.removeAttribute("aria-disabled");
    root.removeAttribute("aria-busy");
  }
}

button.addEventListener("click", checkIn);
refreshCard();
watchCard(refreshCard);
