// The demo page plays a kiosk's ID-card reader: it signs kiosk API requests
// in the browser, as a kiosk does (kiosk-sign.js, identity.SignKioskRequest),
// with the kiosk ID and secret an administrator got at registration. They
// are kept in this browser's localStorage under the same keys /kiosk/setup
// uses, and the secret reaches the server only as signatures. The page
// shows what a kiosk screen would: the masked holder, the session's
// remaining seconds, or the reason for a refusal.
//
// It also plays the card-reader bridge for the other kiosk pages: "刷卡"
// stores the card session token in sessionStorage ("banhao.kiosk.card"),
// where /kiosk/ticket and /kiosk/check-in find it, and "取卡" removes it.
import { cardSession, credentials, forgetCredentials, saveCredentials, setCardSession, signedFetch, storageKeys } from "/static/kiosk-sign.js";

const $ = (id) => document.getElementById(id);

const idInput = $("kiosk-id");
const secretInput = $("kiosk-secret");
const screen = $("screen");
const screenTitle = $("screen-title");
const screenDetail = $("screen-detail");
const holderBox = $("screen-holder");
const countdown = $("countdown");
const countdownSeconds = $("countdown-seconds");
const deviceStatus = $("device-status");
const lastRequest = $("last-request");
const actions = [$("card-in"), $("card-look"), $("card-out"), $("heartbeat")];

// cardIdle is how long a card session lasts untouched (identity.Kiosks).
const cardIdle = 120;

let card = null; // the card on the pretend reader
// token is the card session's token; like a card-reader bridge, the page
// keeps it in sessionStorage for the other kiosk pages of this tab.
let token = cardSession();
let ticker = 0;

function setToken(t) {
  token = t;
  setCardSession(t);
}

const kept = credentials();
idInput.value = kept.id;
secretInput.value = kept.secret;
// The fields are the kiosk's settings: an edit here is an edit there.
function keep() {
  saveCredentials(idInput.value.trim(), secretInput.value);
}
idInput.addEventListener("input", keep);
secretInput.addEventListener("input", keep);
$("forget").addEventListener("click", () => {
  idInput.value = "";
  secretInput.value = "";
  forgetCredentials();
  idInput.focus();
});
// Another tab (the setup page) may change the settings meanwhile.
addEventListener("storage", (e) => {
  if (e.key === storageKeys.id || e.key === storageKeys.secret || e.key === null) {
    const now = credentials();
    idInput.value = now.id;
    secretInput.value = now.secret;
  }
});

for (const b of document.querySelectorAll("button.idcard")) {
  b.addEventListener("click", () => {
    for (const other of document.querySelectorAll("button.idcard")) {
      other.setAttribute("aria-pressed", String(other === b));
    }
    card = {
      name: b.dataset.name,
      id_number: b.dataset.idNumber,
      valid_from: b.dataset.validFrom,
      valid_until: b.dataset.validUntil,
    };
  });
}

// call sends a signed request and returns the response with its JSON body
// (a result or a problem), or null when nothing was sent.
async function call(method, path, payload, session) {
  const id = idInput.value.trim();
  const secret = secretInput.value;
  if (!id || !secret) {
    show("refused", "请先填写终端标识和终端密钥", "两者都在管理员登记自助终端时取得。");
    (id ? secretInput : idInput).focus();
    return null;
  }
  if (!/^[\x21-\x7e]+$/.test(id)) {
    show("refused", "终端标识格式不对", "终端标识由字母和数字组成，请重新粘贴。");
    idInput.focus();
    return null;
  }
  const r = await signedFetch(method, path, payload, { id, secret, session });
  lastRequest.textContent = `最近一次请求：${method} ${path} → ${r.res.status}`;
  return r;
}

// show puts a message on the pretend kiosk screen; state styles it.
function show(state, title, detail) {
  screen.dataset.state = state;
  screenTitle.textContent = title;
  screenDetail.textContent = detail || "";
  screenDetail.hidden = !detail;
  if (state !== "session") {
    holderBox.hidden = true;
  }
}

// refuse shows a problem+json refusal as the kiosk would: its detail, and
// the fields it names.
function refuse(r) {
  const p = r.data || {};
  const fields = Array.isArray(p.errors) ? p.errors.map((e) => e.message).filter(Boolean) : [];
  const detail = [p.detail || p.title || `服务器返回 ${r.res.status}`, ...fields].join("；");
  show("refused", p.title || "无法办理", detail);
  const code = document.createElement("span");
  code.className = "screen-code";
  code.textContent = p.code ? `（${p.code}）` : "";
  screenDetail.append(code);
}

function stopSession() {
  setToken("");
  clearInterval(ticker);
  ticker = 0;
  countdown.hidden = true;
}

// startCountdown counts the session's remaining seconds down from what the
// server says. The server's Date header, not this computer's clock, is the
// reference: a kiosk's clock may be a little off.
function startCountdown(expiresAt, res) {
  clearInterval(ticker);
  const serverNow = Date.parse(res.headers.get("Date") || "") || Date.now();
  let left = Math.round((Date.parse(expiresAt) - serverNow) / 1000);
  // The server has just answered for the session, so it is alive: a time
  // outside (0, cardIdle] means the Date header is not the clock of
  // expires_at (a development server started at BANHAO_DEV_NOW).
  if (!Number.isFinite(left) || left <= 0 || left > cardIdle) left = cardIdle;
  const end = performance.now() + left * 1000;
  const tick = () => {
    const s = Math.max(0, Math.ceil((end - performance.now()) / 1000));
    countdownSeconds.textContent = String(s);
    if (s === 0) {
      stopSession();
      show("ended", "会话已超时结束", "长时间无操作，会话已自动结束。请取走您的身份证，需要时重新刷卡。");
    }
  };
  countdown.hidden = false;
  tick();
  ticker = setInterval(tick, 250);
}

function welcome(r) {
  const h = r.data.holder || {};
  show("session", `您好，${h.name_masked}，请选择要办理的事项`, "");
  $("holder-name").textContent = h.name_masked || "";
  $("holder-id").textContent = h.id_number_masked || "";
  holderBox.hidden = false;
  startCountdown(r.data.expires_at, r.res);
}

async function cardIn() {
  if (!card) {
    show("refused", "请先选择一张演示身份证", "在第二步中点选一张身份证，再按“刷卡”。");
    return;
  }
  if (token) {
    // A new card on the reader means the last one was taken out.
    const old = token;
    stopSession();
    await call("DELETE", "/api/v1/kiosk/card-sessions/current", undefined, old);
  }
  show("busy", "正在读取身份证，请稍候……", "");
  const r = await call("POST", "/api/v1/kiosk/card-sessions", card);
  if (!r) return;
  if (r.res.status !== 201 || !r.data) {
    refuse(r);
    return;
  }
  setToken(r.data.session_token);
  welcome(r);
}

async function cardLook() {
  if (!token) {
    show("idle", "当前没有会话", "请先选择演示身份证并按“刷卡”。");
    return;
  }
  const r = await call("GET", "/api/v1/kiosk/card-sessions/current", undefined, token);
  if (!r) return;
  if (!r.res.ok || !r.data) {
    stopSession();
    refuse(r);
    return;
  }
  welcome(r);
}

async function cardOut() {
  if (!token) {
    show("idle", "当前没有会话", "请先选择演示身份证并按“刷卡”。");
    return;
  }
  const r = await call("DELETE", "/api/v1/kiosk/card-sessions/current", undefined, token);
  if (!r) return;
  stopSession();
  if (r.res.status !== 204) {
    refuse(r);
    return;
  }
  show("ended", "会话已结束，请取走您的身份证", "感谢使用，欢迎再次办理。");
}

const stateLabels = {
  ok: "正常", paper_low: "纸张不足", paper_out: "缺纸", toner_low: "墨粉不足", offline: "离线", error: "故障",
};

async function heartbeat() {
  const printer = $("printer-state").value;
  const reader = $("reader-state").value;
  const r = await call("POST", "/api/v1/kiosk/heartbeat", { printer, reader });
  if (!r) return;
  if (r.res.status === 204) {
    deviceStatus.textContent = `心跳已发送（${new Date().toLocaleTimeString("zh-CN")}）：打印机${stateLabels[printer]}，阅读器${stateLabels[reader]}。`;
  } else {
    const p = r.data || {};
    deviceStatus.textContent = `心跳未被接受：${p.detail || p.title || r.res.status}`;
  }
}

// busy runs one action at a time: a second press while a request is out
// would race the first one's session token. The buttons keep their focus
// (aria-disabled, not disabled) so that a keyboard user is not thrown out.
let inFlight = false;
function busy(fn) {
  return async () => {
    if (inFlight) return;
    inFlight = true;
    for (const b of actions) b.setAttribute("aria-disabled", "true");
    screen.setAttribute("aria-busy", "true");
    try {
      await fn();
    } catch (err) {
      show("refused", "请求没有发出或没有回应", `请检查网络和终端标识（${err.name}）。`);
    } finally {
      inFlight = false;
      for (const b of actions) b.removeAttribute("aria-disabled");
      screen.removeAttribute("aria-busy");
    }
  };
}

if (!window.crypto || !crypto.subtle) {
  // WebCrypto exists only in a secure context: https, or localhost.
  show("refused", "此浏览器无法在本页签名", "请通过 https 或 http://localhost 打开本页。");
  for (const b of actions) b.disabled = true;
} else {
  $("card-in").addEventListener("click", busy(cardIn));
  $("card-look").addEventListener("click", busy(cardLook));
  $("card-out").addEventListener("click", busy(cardOut));
  $("heartbeat").addEventListener("click", busy(heartbeat));
}
