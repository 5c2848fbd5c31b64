// 终端设置 (/kiosk/setup): an administrator stores the kiosk's ID and secret
// in this browser once (localStorage; see kiosk-sign.js for the keys), tests
// them with a signed heartbeat, or forgets them. The stored secret is never
// put back on screen.
import { credentials, forgetCredentials, hasPrinter, kioskIDPattern, saveCredentials, setPrinter, signedFetch, NotConfigured } from "/static/kiosk-sign.js";

const $ = (id) => document.getElementById(id);
const idInput = $("kiosk-id");
const secretInput = $("kiosk-secret");
const secretHint = $("secret-hint");
const printer = $("printer");
const setupState = $("setup-state");
const result = $("test-result");
const actions = [$("save"), $("test"), $("forget")];

function showStored() {
  const c = credentials();
  idInput.value = c.id;
  secretInput.value = "";
  printer.checked = hasPrinter();
  if (c.id && c.secret) {
    setupState.dataset.state = "set";
    setupState.textContent = `本机已设置：终端标识 ${c.id}`;
    secretHint.textContent = "密钥已保存（不显示）。更换密钥时在此粘贴新的密钥，不更换请留空。";
  } else {
    setupState.dataset.state = "unset";
    setupState.textContent = "本机尚未设置终端标识和密钥。";
    secretHint.textContent = "只显示一次的密钥，请从登记结果中粘贴。";
  }
}

// wallClock shows a time as the center's wall clock.
const wallClock = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });

function report(outcome, text) {
  result.dataset.result = outcome;
  result.textContent = text;
}

async function test() {
  report("busy", "正在测试连接……");
  let r;
  try {
    r = await signedFetch("POST", "/api/v1/kiosk/heartbeat", {});
  } catch (err) {
    report("failed", err instanceof NotConfigured ? err.message : "连接失败：服务器没有回应，请检查网络。");
    return;
  }
  if (r.res.status === 204) {
    const at = wallClock.format(new Date());
    report("ok", `连接成功：服务器已确认本机身份（${at}）。`);
    return;
  }
  const p = r.data || {};
  report("failed", `连接失败：${p.detail || p.title || "服务器返回 " + r.res.status}`);
}

async function save() {
  const id = idInput.value.trim();
  const stored = credentials();
  // An empty secret field keeps the stored secret of the same kiosk.
  const secret = secretInput.value || (id === stored.id ? stored.secret : "");
  if (!kioskIDPattern.test(id)) {
    report("failed", "终端标识格式不对：应为 ks 开头的 30 位字母和数字，请重新粘贴。");
    idInput.focus();
    return;
  }
  if (!secret) {
    report("failed", "请填写终端密钥。");
    secretInput.focus();
    return;
  }
  if (!saveCredentials(id, secret)) {
    report("failed", "无法保存：此浏览器禁止了本地存储，请检查浏览器设置。");
    return;
  }
  setPrinter(printer.checked);
  showStored();
  await test();
}

function forget() {
  forgetCredentials();
  showStored();
  report("forgotten", "已清除本机的终端标识、密钥和打印机设置。");
  idInput.focus();
}

let inFlight = false;
function busy(fn) {
  return async () => {
    if (inFlight) return;
    inFlight = true;
    for (const b of actions) b.setAttribute("aria-disabled", "true");
    try {
      await fn();
    } finally {
      inFlight = false;
      for (const b of actions) b.removeAttribute("aria-disabled");
    }
  };
}

showStored();
$("save").addEventListener("click", busy(save));
$("test").addEventListener("click", busy(test));
$("forget").addEventListener("click", busy(forget));
printer.addEventListener("change", () => {
  if (credentials().id) setPrinter(printer.checked);
});
