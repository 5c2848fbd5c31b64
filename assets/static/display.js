// Lobby calling screen (叫号大屏): keeps the board current from the server's
// event stream and announces each new call aloud, twice, in Mandarin.
// The page arrives with the board as it was when it was served; those calls
// were announced then and are not announced again.
const center = document.body.dataset.center || "";
const now = document.getElementById("now");
const recent = document.getElementById("recent");
const waiting = document.querySelector("#waiting tbody");
const linkState = document.getElementById("link-state");
const soundOn = document.getElementById("sound-on");

// The same words as statusLabel in kiosk/display.go.
const labels = { called: "请前往", done: "已办结", missed: "已过号", parked: "暂缓办理" };
function statusLabel(c) {
  if (c.status === "called" && c.calls > 1) return "再次呼叫";
  return labels[c.status] || "";
}

// A call is a number called to a window for the nth time: a recall counts
// up, so it is a new call and is announced again.
const key = (c) => c.number + "|" + c.window + "|" + c.calls;
let seen = new Set([...document.querySelectorAll("[data-number][data-calls]")].map((e) =>
  key({ number: e.dataset.number, window: e.dataset.window, calls: e.dataset.calls })));
let shownLatest = document.querySelector("#now .now-call");
shownLatest = shownLatest ? key({ number: shownLatest.dataset.number, window: shownLatest.dataset.window, calls: shownLatest.dataset.calls }) : "";

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function renderLatest(c) {
  // Replace the big call only when it changes, so that screen readers and
  // the live region announce it once.
  const k = c ? key(c) : "";
  if (k === shownLatest) return;
  shownLatest = k;
  if (!c) {
    now.replaceChildren(el("p", "now-empty", "暂无叫号，请耐心等候"));
    return;
  }
  const p = el("p", "now-call");
  p.dataset.number = c.number;
  p.dataset.window = c.window;
  p.dataset.calls = String(c.calls);
  const line1 = el("span", "now-line");
  line1.append("请 ", el("span", "now-number", c.number), " 号");
  const line2 = el("span", "now-line");
  line2.append("到 ", el("span", [...c.window].length > 6 ? "now-window long" : "now-window", c.window), " 办理");
  p.append(line1, line2);
  now.replaceChildren(p);
}

function render(board) {
  renderLatest(board.calls[0]);
  recent.replaceChildren(...board.calls.slice(1).map((c) => {
    const li = el("li");
    li.dataset.number = c.number;
    li.dataset.window = c.window;
    li.dataset.calls = String(c.calls);
    li.dataset.status = c.status;
    li.append(el("span", "recent-number", c.number), el("span", "recent-window", c.window), el("span", "recent-status", statusLabel(c)));
    return li;
  }));
  waiting.replaceChildren(...board.waiting.map((s) => {
    const tr = el("tr");
    tr.dataset.sector = s.sector;
    const th = el("th", "", s.name);
    th.scope = "row";
    tr.append(th, el("td", "", String(s.waiting)));
    return tr;
  }));
}

// announce speaks the calls not seen before, oldest first. After a long
// break in the stream only the latest few are spoken: a queue of stale
// announcements helps nobody.
function announce(board) {
  const fresh = board.calls.filter((c) => c.status === "called" && !seen.has(key(c))).slice(0, 3).reverse();
  seen = new Set(board.calls.map(key));
  for (const c of fresh) {
    say("请" + c.number + "号到" + c.window + "办理");
  }
}

function chineseVoice() {
  const voices = speechSynthesis.getVoices ? speechSynthesis.getVoices() : [];
  const lang = (v) => v.lang.replace("_", "-").toLowerCase();
  return voices.find((v) => lang(v) === "zh-cn") || voices.find((v) => lang(v).startsWith("zh"));
}

function say(text) {
  if (!("speechSynthesis" in window) || !("SpeechSynthesisUtterance" in window)) return;
  const voice = chineseVoice();
  for (let i = 0; i < 2; i++) {
    const u = new SpeechSynthesisUtterance(text);
    u.lang = "zh-CN";
    u.rate = 0.9;
    if (voice) u.voice = voice;
    u.addEventListener("error", (e) => {
      // A browser that allows speech only after a touch: offer one.
      if (e.error === "not-allowed") soundOn.hidden = false;
    });
    speechSynthesis.speak(u);
  }
}

soundOn.addEventListener("click", () => {
  soundOn.hidden = true;
  if ("speechSynthesis" in window && "SpeechSynthesisUtterance" in window) {
    const u = new SpeechSynthesisUtterance("语音播报已开启");
    u.lang = "zh-CN";
    speechSynthesis.speak(u);
  }
});

let retry;
function connect() {
  const es = new EventSource("/api/v1/display/" + encodeURIComponent(center) + "/events");
  // data-link says whether the stream is up, for a look from the outside.
  es.addEventListener("open", () => {
    linkState.hidden = true;
    document.body.dataset.link = "open";
  });
  es.addEventListener("board", (e) => {
    let board;
    try {
      board = JSON.parse(e.data);
    } catch {
      return;
    }
    linkState.hidden = true;
    render(board);
    announce(board);
  });
  es.addEventListener("error", () => {
    linkState.hidden = false;
    document.body.dataset.link = "lost";
    // EventSource reconnects by itself after a dropped stream, but gives
    // up for good on an HTTP error (a full server, a load balancer between
    // deployments): start again after a while, at a random moment so that
    // the screens of a hall do not all come back at once.
    if (es.readyState === EventSource.CLOSED) {
      clearTimeout(retry);
      retry = setTimeout(connect, 10000 + Math.random() * 20000);
    }
  });
}
connect();
