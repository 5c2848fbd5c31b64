// Staff console behaviour: the forms of the login and home pages talk to
// the staff JSON API (/api/v1/staff/). The session cookie is HttpOnly; every
// change echoes the banhao_csrf cookie in the X-CSRF-Token header. Errors
// come back as problem+json: the detail goes to the form's alert, each
// field error next to its field.

const loginForm = document.getElementById("login-form");
const passwordForm = document.getElementById("password-form");
const createForm = document.getElementById("create-form");
const logoutButton = document.getElementById("logout");
const accounts = document.getElementById("accounts");

function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return "";
}

// api calls the staff API and returns {ok, status, data} or
// {ok: false, status, problem, retryAfter}. It never throws: a network
// failure is a problem with a Chinese detail like any other.
async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = cookie("banhao_csrf");
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
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
function sessionEnded(r) {
  if (r.status === 401) {
    location.assign("/console/login?reason=expired");
    return true;
  }
  return false;
}

// waitText turns a Retry-After value (seconds) into words and a clock time.
function waitText(retryAfter) {
  const secs = Number(retryAfter);
  if (!Number.isFinite(secs) || secs <= 0) return "";
  const until = new Date(Date.now() + secs * 1000);
  const clock = until.toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", hour12: false });
  const span = secs < 60 ? `${Math.ceil(secs)} 秒` : `${Math.ceil(secs / 60)} 分钟`;
  return `请等待约 ${span}，${clock} 之后再试。`;
}

// fieldParts finds what shows a field's error: the control to focus, the
// element the error describes, and where the error text goes.
function fieldParts(form, name) {
  const el = form.elements.namedItem(name);
  if (!el) return null;
  if (el instanceof RadioNodeList) {
    const group = el[0].closest("fieldset");
    return { focus: el[0], described: group || el[0], after: group ? group.lastElementChild : el[el.length - 1] };
  }
  if (el.type === "hidden" || el.hidden) return null;
  return { focus: el, described: el, after: el };
}

function clearErrors(form) {
  for (const p of form.querySelectorAll(".field-error")) {
    const owner = document.querySelector(`[aria-describedby~="${p.id}"]`);
    if (owner) {
      const rest = owner.getAttribute("aria-describedby").split(" ").filter((id) => id !== p.id);
      if (rest.length) owner.setAttribute("aria-describedby", rest.join(" "));
      else owner.removeAttribute("aria-describedby");
    }
    p.remove();
  }
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const box of form.querySelectorAll(".message")) {
    box.hidden = true;
    box.textContent = "";
  }
}

// showErrors puts the problem's detail in the form's alert and every field
// error next to its field, then moves focus: to the first field in error,
// or to the alert when no field is to blame.
function showErrors(form, problem, retryAfter) {
  const box = document.getElementById(form.id + "-message");
  const loose = [];
  let first = null;
  for (const fe of problem.errors || []) {
    const parts = fieldParts(form, fe.field);
    if (!parts) {
      loose.push(fe.message);
      continue;
    }
    const id = `${form.id}-${fe.field}-error`;
    let p = document.getElementById(id);
    if (!p) {
      p = document.createElement("p");
      p.id = id;
      p.className = "field-error";
      parts.after.after(p);
      const ids = (parts.described.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      parts.described.setAttribute("aria-describedby", [id, ...ids].join(" "));
      p.textContent = fe.message;
    } else {
      p.textContent += "；" + fe.message;
    }
    parts.focus.setAttribute("aria-invalid", "true");
    first = first || parts.focus;
  }
  const text = [problem.detail, ...loose, waitText(retryAfter)].filter(Boolean).join(" ");
  box.textContent = text;
  box.hidden = false;
  (first || box).focus();
}

// submitting runs send for a form at most once at a time, with its errors
// cleared first and its submit button disabled meanwhile.
function onSubmit(form, send) {
  let busy = false;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (busy) return;
    busy = true;
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    clearErrors(form);
    try {
      await send();
    } finally {
      busy = false;
      button.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });
}

if (loginForm) {
  onSubmit(loginForm, async () => {
    const f = loginForm.elements;
    const r = await api("POST", "/api/v1/staff/login", {
      username: f.username.value.trim(),
      password: f.password.value,
    });
    if (r.ok) {
      location.assign("/console/");
      return;
    }
    // A wrong password is typed again from scratch; the username stays.
    if (r.status === 401 || r.status === 429) f.password.value = "";
    showErrors(loginForm, r.problem, r.retryAfter);
  });
}

if (logoutButton) {
  logoutButton.addEventListener("click", async () => {
    logoutButton.disabled = true;
    const r = await api("POST", "/api/v1/staff/logout");
    if (r.ok || r.status === 401) {
      location.assign("/console/login?reason=logout");
      return;
    }
    logoutButton.disabled = false;
    alertPage(r.problem.detail);
  });
}

// alertPage shows an error that belongs to no form at the top of the page.
function alertPage(text) {
  let box = document.getElementById("page-message");
  if (!box) {
    box = document.createElement("div");
    box.id = "page-message";
    box.className = "message error";
    box.setAttribute("role", "alert");
    box.tabIndex = -1;
    document.getElementById("main").prepend(box);
  }
  box.textContent = text;
  box.focus();
}

if (passwordForm) {
  onSubmit(passwordForm, async () => {
    const f = passwordForm.elements;
    if (f.new_password.value !== f.new_password_confirm.value) {
      showErrors(passwordForm, {
        detail: "输入有误，请检查后重试",
        errors: [{ field: "new_password_confirm", message: "两次输入的新密码不一致" }],
      });
      return;
    }
    const r = await api("POST", "/api/v1/staff/password", {
      old_password: f.old_password.value,
      new_password: f.new_password.value,
    });
    if (r.ok) {
      location.assign("/console/login?reason=password");
      return;
    }
    if (sessionEnded(r)) return;
    showErrors(passwordForm, r.problem, r.retryAfter);
  });
}

// sectorNames maps the center's sector codes to names, from the list the
// page shows administrators.
const sectorNames = new Map(
  [...document.querySelectorAll("#sector-codes li")].map((li) => [li.dataset.code, li.dataset.name]),
);

// parseSectors reads the comma list of the create form: names or codes,
// separated by ASCII or Chinese commas, enumeration commas or spaces.
function parseSectors(text) {
  const codes = [];
  const unknown = [];
  const byName = new Map([...sectorNames].map(([code, name]) => [name, code]));
  for (const part of text.split(/[,，、;；\s]+/)) {
    if (!part) continue;
    const code = sectorNames.has(part) ? part : byName.get(part);
    if (code) {
      if (!codes.includes(code)) codes.push(code);
    } else if (sectorNames.size > 0) {
      unknown.push(part);
    } else {
      codes.push(part);
    }
  }
  return { codes, unknown };
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

async function loadAccounts() {
  const status = document.getElementById("accounts-status");
  const table = document.getElementById("accounts-table");
  const r = await api("GET", "/api/v1/staff/accounts");
  if (!r.ok) {
    if (sessionEnded(r)) return;
    status.textContent = "账号列表加载失败：" + r.problem.detail;
    status.classList.add("error-text");
    return;
  }
  const items = r.data.items || [];
  const rows = items.map((st) => {
    const tr = document.createElement("tr");
    tr.dataset.username = st.username;
    const sectors = st.sectors.length ? st.sectors.map((c) => sectorNames.get(c) || c).join("、") : "全部板块";
    tr.append(cell(st.username), cell(st.name), cell(st.role_labels.join("、")), cell(sectors), cell(st.disabled ? "已停用" : "正常"));
    return tr;
  });
  table.tBodies[0].replaceChildren(...rows);
  table.hidden = false;
  status.classList.remove("error-text");
  status.textContent = `共 ${items.length} 个账号`;
}

if (createForm && accounts) {
  loadAccounts();
  onSubmit(createForm, async () => {
    const f = createForm.elements;
    const roles = [...createForm.querySelectorAll('input[name="roles"]:checked')].map((c) => c.value);
    const sectors = parseSectors(f.sectors.value);
    if (sectors.unknown.length) {
      showErrors(createForm, {
        detail: "输入有误，请检查后重试",
        errors: [{ field: "sectors", message: `本中心没有这些板块：${sectors.unknown.join("、")}` }],
      });
      return;
    }
    const r = await api("POST", "/api/v1/staff/accounts", {
      username: f.username.value.trim(),
      name: f.name.value.trim(),
      roles,
      sectors: sectors.codes,
      password: f.password.value,
    });
    if (!r.ok) {
      if (sessionEnded(r)) return;
      showErrors(createForm, r.problem, r.retryAfter);
      return;
    }
    createForm.reset();
    const done = document.getElementById("create-form-done");
    done.textContent = `已创建账号 ${r.data.username}（${r.data.name}）。请将初始密码当面告知本人。`;
    done.hidden = false;
    done.focus();
    await loadAccounts();
  });
}
