// 证照打印 (/kiosk/certificates): with the citizen's ID card in the reader,
// the page lists the e-certificates ready for self-print (issued by banhao
// for a case whose citizen chose 自助终端打印). 打印 asks the server for a
// print job bound to this kiosk, fetches the job's PDF (once: the server
// refuses a second download), and hands it to the kiosk's printer as a
// browser download: the kiosk's browser is set up to save downloads where
// its print agent picks them up (a test browser saves them in a folder).
// The citizen then says what came out: 已取到证照 reports the job printed;
// 卡纸, 缺纸 or 其他问题 report it failed, and the certificate can be
// printed again here or at another kiosk. The original prints once; a
// reprint needs a clerk's approval at the window and is printed as a
// copy (副本).
import { call, hideProblem, problemOf, readCard, showProblem, watchCard } from "/static/kiosk-queue-view.js";
import { NotConfigured, canSign, credentials, newNonce, sign } from "/static/kiosk-sign.js";

const $ = (id) => document.getElementById(id);

// titles head a refusal by its problem code; the server's detail follows.
const titles = {
  reprint_needs_approval: "原件已打印过",
  print_state: "现在不能打印",
  certificate_revoked: "该证照已注销",
  not_found: "没有找到这份证照",
  unauthorized: "请重新刷身份证",
};

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

// dayOf writes "2026-11-25" as 2026年11月25日.
function dayOf(s) {
  const m = /^(\d{4})-(\d\d)-(\d\d)/.exec(s || "");
  return m ? `${m[1]}年${Number(m[2])}月${Number(m[3])}日` : "";
}

/**
 * fetchPDF fetches a job's PDF with a signed GET, as signedFetch does for
 * JSON, and returns {blob} or a refusal {res, data} / {problem}.
 */
async function fetchPDF(path, session) {
  const { id, secret } = credentials();
  if (!id || !secret || !canSign()) return call("GET", path, undefined, session);
  try {
    const timestamp = Math.floor(Date.now() / 1000);
    const nonce = newNonce();
    const headers = {
      Accept: "application/pdf, application/problem+json",
      "X-Kiosk-Id": id,
      "X-Kiosk-Timestamp": String(timestamp),
      "X-Kiosk-Nonce": nonce,
      "X-Kiosk-Signature": await sign(secret, "GET", path, timestamp, nonce, ""),
    };
    if (session) headers["X-Kiosk-Session"] = session;
    const res = await fetch(path, { headers, cache: "no-store", credentials: "omit" });
    if (res.ok) return { res, blob: await res.blob() };
    let data = null;
    try {
      data = await res.json();
    } catch {
      data = null;
    }
    return { res, data };
  } catch (err) {
    if (err instanceof NotConfigured) return call("GET", path, undefined, session);
    return { problem: { code: "offline", title: "网络连接中断", detail: "请稍后再试，或到综合受理窗口办理。" } };
  }
}

/** sendToPrinter hands the PDF to the kiosk's print agent as a download. */
function sendToPrinter(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

const root = $("certs");
if (root) init(root);

function init(root) {
  const state = $("card-state");
  const needCard = $("need-card");
  const list = $("cert-list");
  const empty = $("certs-empty");
  const printing = $("printing");
  const done = $("print-done");
  const retry = $("print-retry");
  let card = { token: "", holder: null };
  // job is the print job waiting for its result, with the certificate it prints.
  let job = null;
  let busy = false;

  function showOnly(name) {
    root.dataset.state = name;
    list.hidden = name !== "listed" || list.children.length === 0;
    empty.hidden = name !== "listed" || list.children.length > 0;
    printing.hidden = name !== "printing";
    done.hidden = name !== "done";
    needCard.hidden = name !== "need-card";
  }

  function certCard(c) {
    const li = el("li", "cert-card");
    li.dataset.id = c.id;
    li.dataset.original = String(c.original);
    li.append(el("h2", "cert-title", c.title));
    li.append(el("p", "cert-meta", `证照编号 ${c.number} · ${c.issuer} · ${dayOf(c.issued)}签发`));
    let note;
    let label;
    if (c.original) {
      note = "可以打印原件（只能打印一次）";
      label = "打印";
    } else if (c.copy_approved) {
      note = "原件已打印；工作人员已核准补打一份副本";
      label = "打印副本";
    } else {
      note = "原件已打印；如需补打，请到窗口由工作人员核准";
      label = "打印副本";
    }
    li.append(el("p", "cert-note", note));
    const b = el("button", "button primary huge cert-print", label);
    b.type = "button";
    b.addEventListener("click", () => print(c, b));
    li.append(b);
    return li;
  }

  function refused(r) {
    const p = problemOf(r, titles);
    if (p.code === "unauthorized") {
      card = { token: card.token, holder: null, stale: true };
      list.replaceChildren();
      state.textContent = "身份证信息已失效，请重新刷卡。";
      showOnly("need-card");
      return;
    }
    showProblem(p);
  }

  async function load() {
    const token = card.token;
    const r = await call("GET", "/api/v1/kiosk/certificates", undefined, token);
    if (token !== card.token) return;
    if (!(r.res && r.res.ok && r.data)) {
      refused(r);
      return;
    }
    list.replaceChildren(...(r.data.items || []).map(certCard));
    showOnly("listed");
  }

  async function refresh() {
    card = await readCard();
    hideProblem();
    if (card.problem) {
      list.replaceChildren();
      state.textContent = "";
      showOnly("refused");
      showProblem(card.problem);
      return;
    }
    if (!card.holder) {
      list.replaceChildren();
      state.textContent = card.stale ? "身份证信息已失效，请重新刷卡。" : "没有读取到身份证。";
      // A job waiting for its result keeps its screen: whoever stands at
      // the kiosk can still say whether the paper came out.
      showOnly(job ? "printing" : "need-card");
      return;
    }
    state.textContent = `${card.holder.name_masked}，您好：以下是可以在本机打印的证照。`;
    if (job) return;
    await load();
  }

  async function guard(button, fn) {
    if (busy) return;
    busy = true;
    if (button) button.setAttribute("aria-disabled", "true");
    root.setAttribute("aria-busy", "true");
    hideProblem();
    try {
      await fn();
    } finally {
      busy = false;
      if (button) button.removeAttribute("aria-disabled");
      root.removeAttribute("aria-busy");
    }
  }

  function print(c, button) {
    return guard(button, async () => {
      if (!card.holder) return;
      const token = card.token;
      const r = await call("POST", "/api/v1/kiosk/print-jobs", { certificate: c.id }, token);
      if (token !== card.token) return;
      if (!(r.res && r.res.status === 201 && r.data)) {
        refused(r);
        return;
      }
      const pdf = await fetchPDF(r.data.pdf, token);
      if (!pdf.blob) {
        refused(pdf);
        return;
      }
      job = { id: r.data.id, cert: c };
      sendToPrinter(pdf.blob, `${r.data.id}.pdf`);
      $("printing-what").textContent = `${c.title}${r.data.copy ? "（副本）" : ""}`;
      printing.dataset.job = r.data.id;
      showOnly("printing");
      printing.focus({ preventScroll: true });
      printing.scrollIntoView({ block: "start" });
    });
  }

  function report(printed, reason, button) {
    return guard(button, async () => {
      if (!job) return;
      const r = await call("POST", `/api/v1/kiosk/print-jobs/${encodeURIComponent(job.id)}/result`, { printed, reason }, card.token);
      if (!(r.res && r.res.ok && r.data)) {
        showProblem(problemOf(r, titles));
        return;
      }
      const printedCert = job.cert;
      job = null;
      done.dataset.status = r.data.status;
      if (printed) {
        $("print-done-title").textContent = "打印完成";
        $("print-done-detail").textContent = `${printedCert.title}已打印，请妥善保管。证照上的二维码可供核验真伪。`;
        retry.hidden = true;
      } else {
        $("print-done-title").textContent = `打印没有完成：${reason}`;
        $("print-done-detail").textContent = "本次打印已记为失败，不算作原件。请工作人员处理打印机后重新打印，也可以到另一台自助终端刷身份证打印。";
        retry.hidden = false;
        retry.onclick = () => print(printedCert, retry);
      }
      showOnly("done");
      done.focus({ preventScroll: true });
      done.scrollIntoView({ block: "start" });
    });
  }

  $("print-ok").addEventListener("click", (e) => report(true, "", e.currentTarget));
  for (const b of document.querySelectorAll(".print-fail")) {
    b.addEventListener("click", () => report(false, b.dataset.reason, b));
  }
  $("print-back").addEventListener("click", () => {
    hideProblem();
    if (card.holder) load();
    else refresh();
  });

  refresh();
  watchCard(refresh);
}
