// The courier's phone page (/courier/): log in with the courier API, list
// the parcels assigned to me, pick one up by scanning (or typing) the
// parcel number on its label, deliver with the recipient's 6-digit code,
// or record a failed attempt or the return to the center. The session
// token stays in this tab only (sessionStorage).

const TOKEN = "banhao.courier.token";
const $ = (id) => document.getElementById(id);

function show(el, text) {
  el.textContent = text;
  el.hidden = !text;
}

// api calls the courier API and returns {ok, status, data} or
// {ok: false, status, problem}; it never throws.
async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const token = sessionStorage.getItem(TOKEN);
  if (token) headers.Authorization = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, { method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body) });
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
  if (res.status === 401 && path !== "/api/v1/courier/login") {
    sessionStorage.removeItem(TOKEN);
    showLogin("登录已失效，请重新登录。");
  }
  return { ok: false, status: res.status, problem };
}

function showLogin(message) {
  $("work").hidden = true;
  $("who").hidden = true;
  $("login").hidden = false;
  show($("login-message"), message || "");
  $("login-username").focus();
}

async function showWork(courier) {
  $("login").hidden = true;
  $("work").hidden = false;
  $("who").hidden = false;
  $("who-name").textContent = `${courier.name}（${courier.company}）`;
  await load();
}

function notice(text) {
  show($("notice"), text);
  if (text) $("notice").focus();
}

async function load() {
  const r = await api("GET", "/api/v1/courier/parcels");
  if (!r.ok) {
    if (r.status !== 401) show($("list-message"), r.problem.detail);
    return;
  }
  show($("list-message"), "");
  const list = $("parcels");
  list.replaceChildren(...r.data.items.map(render));
  $("empty").hidden = r.data.items.length > 0;
}

const cameraOK = "BarcodeDetector" in window && !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);

function render(p) {
  const li = $("parcel-template").content.firstElementChild.cloneNode(true);
  li.dataset.id = p.id;
  const q = (sel) => li.querySelector(sel);
  q(".p-cert").textContent = p.certificate_type || "证照";
  q(".p-status").textContent = p.status_label;
  q(".p-tracking").textContent = `${p.company} ${p.tracking}`;
  q(".p-recipient").textContent = p.recipient_name;
  q(".p-phone").textContent = p.phone;
  q(".p-address").textContent = p.address;
  q(".p-id").textContent = p.id;
  const attempts = q(".p-attempts");
  for (const a of p.attempts) {
    const item = document.createElement("li");
    item.textContent = `${a.at.slice(5, 16).replace("T", " ")} 未投递成功：${a.reason}`;
    attempts.append(item);
  }
  attempts.hidden = p.attempts.length === 0;
  const message = q(".p-message");
  const fail = (text) => {
    show(message, text);
    if (text) message.focus();
  };
  const onTheWay = p.status === "picked_up" || p.status === "failed_attempt";
  const pickup = q(".p-pickup");
  const deliver = q(".p-deliver");
  const failForm = q(".p-fail");
  pickup.hidden = p.status !== "ready";
  deliver.hidden = !onTheWay || p.locked;
  failForm.hidden = !onTheWay;
  if (p.locked) show(message, "签收码输错次数过多，此件已锁定，已通知政务服务中心，请联系中心。");
  q(".p-tries").textContent = `签收码还可尝试 ${p.tries_left} 次`;

  const busy = async (form, fn) => {
    const buttons = [...form.querySelectorAll("button")];
    buttons.forEach((b) => (b.disabled = true));
    try {
      await fn();
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  };

  pickup.addEventListener("submit", (e) => {
    e.preventDefault();
    const scan = pickup.elements.scan.value.trim();
    if (!scan) return fail("请扫描面单二维码，或输入面单上的件号。");
    busy(pickup, async () => {
      const r = await api("POST", `/api/v1/courier/parcels/${encodeURIComponent(p.id)}/pickup`, { scan });
      if (!r.ok) return fail(r.problem.detail);
      await load();
      notice(`已揽收 ${r.data.tracking}，签收码已发送给收件人。`);
    });
  });
  const camera = q(".p-camera");
  camera.hidden = !cameraOK;
  camera.addEventListener("click", () => scanInto(pickup.elements.scan));

  deliver.addEventListener("submit", (e) => {
    e.preventDefault();
    const code = deliver.elements.code.value.trim();
    if (!/^[0-9]{6}$/.test(code)) return fail("签收码为 6 位数字。");
    busy(deliver, async () => {
      const r = await api("POST", `/api/v1/courier/parcels/${encodeURIComponent(p.id)}/deliver`, { code });
      if (r.ok) {
        await load();
        notice(`已签收 ${r.data.tracking}。`);
        return;
      }
      if (r.problem.code === "parcel_locked") {
        deliver.hidden = true;
      } else if (r.problem.code === "delivery_code_wrong") {
        p.tries_left = Math.max(p.tries_left - 1, 0);
        q(".p-tries").textContent = `签收码还可尝试 ${p.tries_left} 次`;
      }
      deliver.elements.code.value = "";
      fail(r.problem.detail);
    });
  });

  failForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const reason = failForm.elements.reason.value;
    const detail = failForm.elements.detail.value.trim();
    if (!reason) return fail("请选择未投递成功的原因。");
    busy(failForm, async () => {
      const r = await api("POST", `/api/v1/courier/parcels/${encodeURIComponent(p.id)}/fail`, { reason: detail ? `${reason}：${detail}` : reason });
      if (!r.ok) return fail(r.problem.detail);
      await load();
      notice(`已登记 ${r.data.tracking} 未投递成功，收件人会收到通知。`);
    });
  });

  // 退回中心 asks to be pressed twice: the parcel then leaves the list.
  const back = q(".p-return");
  let armed = null;
  back.addEventListener("click", () => {
    if (!armed) {
      back.textContent = "再按一次确认退回";
      armed = setTimeout(() => {
        armed = null;
        back.textContent = "退回中心";
      }, 5000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    busy(failForm, async () => {
      const r = await api("POST", `/api/v1/courier/parcels/${encodeURIComponent(p.id)}/return`);
      if (!r.ok) return fail(r.problem.detail);
      await load();
      notice(`${r.data.tracking} 已登记退回中心，请交回出件窗口。`);
    });
  });
  return li;
}

// scanInto reads a QR code with the phone's camera into input.
async function scanInto(input) {
  const dialog = $("camera");
  const video = $("camera-video");
  show($("camera-message"), "");
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  } catch {
    show($("camera-message"), "无法打开相机，请直接输入面单上的件号。");
    dialog.showModal();
    return;
  }
  video.srcObject = stream;
  dialog.showModal();
  await video.play().catch(() => {});
  const detector = new BarcodeDetector({ formats: ["qr_code"] });
  const stop = () => {
    stream.getTracks().forEach((t) => t.stop());
    video.srcObject = null;
    if (dialog.open) dialog.close();
  };
  dialog.addEventListener("close", stop, { once: true });
  while (dialog.open) {
    try {
      const codes = await detector.detect(video);
      if (codes.length > 0) {
        input.value = codes[0].rawValue.trim();
        stop();
        input.focus();
        return;
      }
    } catch {
      // a frame not ready yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

$("camera-close").addEventListener("click", () => $("camera").close());

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const username = $("login-username").value.trim();
  const password = $("login-password").value;
  if (!username || !password) {
    show($("login-message"), "请输入用户名和密码。");
    $("login-message").focus();
    return;
  }
  const r = await api("POST", "/api/v1/courier/login", { username, password });
  if (!r.ok) {
    show($("login-message"), r.problem.detail);
    $("login-message").focus();
    return;
  }
  sessionStorage.setItem(TOKEN, r.data.token);
  $("login-password").value = "";
  await showWork(r.data.courier);
});

$("logout").addEventListener("click", async () => {
  await api("POST", "/api/v1/courier/logout");
  sessionStorage.removeItem(TOKEN);
  showLogin("您已退出登录。");
});

$("refresh").addEventListener("click", async () => {
  notice("");
  await load();
});

(async () => {
  if (!sessionStorage.getItem(TOKEN)) return showLogin("");
  const r = await api("GET", "/api/v1/courier/me");
  if (r.ok) await showWork(r.data);
  else if (r.status !== 401) showLogin(r.problem.detail);
})();
