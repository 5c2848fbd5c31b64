// Shared by the console's modules (console.js on every console page,
// console-cases.js, -service.js, -reports.js and -outbox.js on theirs):
// reading the CSRF cookie, calling the staff API with problem+json errors
// in Chinese, the session-ended and Retry-After texts, and the few DOM
// builders every table needs.

export function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return "";
}

// api calls the staff API and returns {ok, status, data} or
// {ok: false, status, problem, retryAfter}. It never throws: a network
// failure is a problem with a Chinese detail like any other.
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = cookie("banhao_csrf");
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { ok: false, status: 0, problem: { detail: "无法连接服务器，请检查网络后重试。" } };
  }
  let data = null;
  if (res.status !== 204) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }
  if (res.ok) return { ok: true, status: res.status, data };
  const problem = data && typeof data === "object" ? data : {};
  if (!problem.detail) problem.detail = `操作未成功（错误 ${res.status}），请稍后再试。`;
  return { ok: false, status: res.status, problem, retryAfter: res.headers.get("Retry-After") };
}

// A change refused because the session ended sends the staff member back
// to the login page with a note, rather than leaving a form that cannot
// succeed.
export function sessionEnded(r) {
  if (r.status === 401) {
    location.assign("/console/login?reason=expired");
    return true;
  }
  return false;
}

// waitText turns a Retry-After value (seconds) into words and a clock time.
export function waitText(retryAfter) {
  const secs = Number(retryAfter);
  if (!Number.isFinite(secs) || secs <= 0) return "";
  const until = new Date(Date.now() + secs * 1000);
  const clock = until.toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", hour12: false });
  const span = secs < 60 ? `${Math.ceil(secs)} 秒` : `${Math.ceil(secs / 60)} 分钟`;
  return `请等待约 ${span}，${clock} 之后再试。`;
}

// el makes an element with an optional class and text (never HTML).
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// cell makes a table cell holding a node, or a text (numbers included).
export function cell(content) {
  const td = document.createElement("td");
  if (content instanceof Node) td.append(content);
  else td.textContent = content ?? "";
  return td;
}

// badge is a coloured status word; the word, never the colour alone,
// carries the meaning. kind is ok, warn, bad or off.
export function badge(text, kind) {
  return el("span", "badge " + kind, text);
}

// timeText shows a time in the center's zone, or empty for none (an
// unset Go time is year 1).
export function timeText(iso, empty = "") {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime()) || d.getFullYear() < 2000) return empty;
  return d.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
}
