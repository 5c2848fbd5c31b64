// What the kiosk's 取号, 预约签到 and 过号恢复 pages share: the signed call with its
// failures turned into something to show, the card in the reader, the
// "printed" ticket, the refusal in plain Chinese, and printing.
import { NotConfigured, cardSession, credentials, hasPrinter, signedFetch } from "/static/kiosk-sign.js";

const $ = (id) => document.getElementById(id);

/** priorityLabels name a ticket's priority as the ticket prints it. */
export const priorityLabels = {
  appointment: "预约优先",
  elderly: "老年人优先",
  green: "绿色通道",
  disabled: "优先办理",
  pregnant: "优先办理",
};

// titles head a refusal by its problem code; the problem's detail, which
// the server writes for citizens, follows. Codes are never shown.
const titles = {
  center_closed: "现在不是办公时间",
  active_ticket: "您在这个板块已经取过号了",
  checkin_too_early: "还没到签到时间",
  checkin_too_late: "已过签到时间",
  not_found: "未查到预约",
  unauthorized: "请重新刷身份证",
  card_expired: "身份证不在有效期内",
  unavailable: "暂时无法办理",
  too_many_requests: "操作太频繁了",
  invalid_input: "暂时无法办理",
  kiosk_proof_invalid: "本机暂时无法办理",
  kiosk_clock_skew: "本机暂时无法办理",
  kiosk_replay: "本机暂时无法办理",
  kiosk_revoked: "本机已停止使用",
};

/** notConfigured is the refusal of a kiosk whose browser has no ID and secret. */
export const notConfigured = {
  code: "not_configured",
  title: "本机尚未完成设置",
  detail: "请工作人员在终端设置页填写终端标识和密钥后再使用。您也可以到综合受理窗口取号。",
};

/** offline is the refusal when the server could not be reached. */
export const offline = {
  code: "offline",
  title: "网络连接中断",
  detail: "请稍后再试，或到综合受理窗口办理。",
};

/**
 * call sends a signed kiosk API request. It returns {res, data} for every
 * answer of the server, or {problem} when nothing was sent or nothing came
 * back, so that a page has one thing to show either way.
 */
export async function call(method, path, payload, session) {
  try {
    return await signedFetch(method, path, payload, { session });
  } catch (err) {
    if (err instanceof NotConfigured) return { problem: notConfigured };
    return { problem: offline };
  }
}

/**
 * problemOf turns a failed call into {code, title, detail} to show; own
 * maps codes to a page's own titles where the shared ones would mislead
 * (not_found is an appointment on 预约签到 but a ticket on 过号恢复).
 */
export function problemOf(r, own = {}) {
  if (r.problem) return r.problem;
  const p = r.data || {};
  const code = p.code || "";
  const fields = Array.isArray(p.errors) ? p.errors.map((e) => e.message).filter(Boolean) : [];
  const detail = [p.detail, ...fields].filter(Boolean).join("；") || "请稍后再试，或到综合受理窗口咨询。";
  return { code, title: own[code] || titles[code] || "暂时无法办理", detail };
}

/**
 * showProblem shows a refusal; offerTicket adds the button to 取号, for a
 * citizen whose appointment cannot be signed in (labelled 取普通号) or
 * whose ticket cannot come back (offerTicket is then the label).
 */
export function showProblem(p, offerTicket = false) {
  const box = $("problem");
  box.dataset.code = p.code || "";
  $("problem-title").textContent = p.title;
  $("problem-detail").textContent = p.detail;
  const take = $("problem-take");
  take.textContent = typeof offerTicket === "string" ? offerTicket : "取普通号";
  take.hidden = !offerTicket;
  box.hidden = false;
  box.scrollIntoView({ block: "nearest" });
}

/** hideProblem takes a refusal off the screen. */
export function hideProblem() {
  $("problem").hidden = true;
}

/**
 * readCard looks at the card in the reader: {token, holder} with the
 * holder's masked name and ID number, or holder null when no card was read
 * or its session is over (taken out elsewhere, or idle too long), or when
 * the kiosk cannot ask; then problem says why it cannot.
 */
export async function readCard() {
  const token = cardSession();
  const c = credentials();
  if (!c.id || !c.secret) return { token, holder: null, stale: false, problem: notConfigured };
  if (!token) return { token, holder: null, stale: false };
  const r = await call("GET", "/api/v1/kiosk/card-sessions/current", undefined, token);
  if (r.res && r.res.ok && r.data && r.data.holder) return { token, holder: r.data.holder, stale: false };
  // stale: the server answered, and the session is over.
  return { token, holder: null, stale: !r.problem, problem: r.problem };
}

/**
 * watchCard calls onChange whenever the card-reader bridge puts a card in
 * or takes it out (the token in sessionStorage changes). Storage events
 * reach other tabs only, so the page looks every second.
 */
export function watchCard(onChange) {
  let seen = cardSession();
  setInterval(() => {
    const now = cardSession();
    if (now !== seen) {
      seen = now;
      onChange();
    }
  }, 1000);
}

/** takenAt formats a server time "2026-11-25T09:00:05+08:00" as the
 * center's wall clock, whatever the kiosk's time zone. */
export function takenAt(s) {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d:\d\d)/.exec(s || "");
  return m ? `${Number(m[2])}月${Number(m[3])}日 ${m[4]}` : "";
}

/**
 * showTicket shows the ticket as printed: t is the API's ticket, holder
 * the masked name of the card holder ("" for a walk-in), note a line under
 * the priority (an appointment's time).
 */
export function showTicket(t, holder, note) {
  $("ticket-number").textContent = t.number;
  $("ticket-sector").textContent = t.sector_name;
  $("ticket-ahead").textContent = String(t.ahead);
  $("ticket-time").textContent = takenAt(t.taken_at);
  const pr = $("ticket-priority");
  const label = [priorityLabels[t.priority], note].filter(Boolean).join(" · ");
  pr.textContent = label;
  pr.hidden = !label;
  $("ticket-holder").textContent = holder || "";
  $("ticket-holder-row").hidden = !holder;
  const img = $("ticket-qr");
  img.src = "/kiosk/qr.png?path=" + encodeURIComponent(t.follow_path);
  const box = $("ticket");
  box.dataset.number = t.number;
  box.hidden = false;
  box.focus({ preventScroll: true });
  box.scrollIntoView({ block: "start" });
}

/**
 * printTicket prints the ticket when the kiosk has a printer: the page's
 * data-print ("1" or "0" from ?print=) decides, else the setting kept at
 * /kiosk/setup. It waits for the QR code, so that it is on the paper.
 */
export async function printTicket(flag) {
  const wanted = flag === "1" || (flag !== "0" && hasPrinter());
  if (!wanted) return;
  try {
    await $("ticket-qr").decode();
  } catch {
    // Print without the QR code rather than not at all.
  }
  window.print();
}
