// 评价器 (/kiosk/pad?window=…): the evaluation pad beside a window's
// clerk. The citizen just served touches one of five large faces, each
// with its word (非常满意 … 非常不满意); the pad rates the ticket last
// completed at its window, without a card, through the signed kiosk API.
// A second touch for the same ticket is refused by the server
// (already_rated) and the pad says so.
import { call, hideProblem, problemOf, showProblem } from "/static/kiosk-queue-view.js";

const root = document.getElementById("pad");
const thanks = document.getElementById("pad-thanks");
const faces = [...root.querySelectorAll("button.pad-face")];

const titles = {
  not_found: "暂无可评价的办理",
  already_rated: "这次办理已经评价过了，谢谢您",
  event_not_finished: "办理尚未完成，完成后再评价",
};

let busy = false;
for (const b of faces) {
  b.addEventListener("click", async () => {
    if (busy) return;
    busy = true;
    hideProblem();
    thanks.hidden = true;
    for (const f of faces) f.setAttribute("aria-disabled", "true");
    const r = await call("POST", "/api/v1/kiosk/evaluations", { window: root.dataset.window, level: Number(b.dataset.level) });
    for (const f of faces) f.removeAttribute("aria-disabled");
    busy = false;
    if (r.res && r.res.ok) {
      thanks.textContent = `感谢您的评价：${r.data.level_label}！`;
      thanks.hidden = false;
      return;
    }
    showProblem(problemOf(r, titles));
  });
}
