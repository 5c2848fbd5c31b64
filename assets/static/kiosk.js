// Kiosk page behaviour: an on-screen pinyin keyboard for the search box and
// live suggestions from the public catalog API. The pages work without it
// (the search form submits normally); this only adds touch input.
const input = document.getElementById("q");
const board = document.getElementById("keyboard");

if (input && board) {
  const rows = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"];
  for (const keys of rows) {
    const row = document.createElement("div");
    row.className = "row";
    for (const k of keys) {
      row.append(key(k.toUpperCase(), () => type(k), "输入 " + k));
    }
    board.append(row);
  }
  const controls = document.createElement("div");
  controls.className = "row";
  controls.append(
    key("退格", () => { input.value = input.value.slice(0, -1); changed(); }, "退格，删除最后一个字", "wide"),
    key("清空", () => { input.value = ""; changed(); }, "清空输入", "wide"),
    key("空格", () => type(" "), "输入空格", "wide"),
    key("搜索", () => input.form.submit(), "开始搜索", "wide primary"),
  );
  board.append(controls);
  if (board.hasAttribute("data-collapsed")) {
    // Results are on screen: keep them in view and offer the keyboard on demand.
    const open = key("修改搜索", () => { open.remove(); board.hidden = false; input.focus(); }, "修改搜索，打开屏幕键盘", "button");
    open.id = "open-keyboard";
    board.before(open);
  } else {
    board.hidden = false;
  }

  const list = document.createElement("ul");
  list.className = "suggest";
  list.id = "suggest";
  list.hidden = true;
  list.setAttribute("aria-live", "polite");
  list.setAttribute("aria-label", "搜索建议");
  board.before(list);

  let pending;
  function changed() {
    clearTimeout(pending);
    pending = setTimeout(suggest, 150);
  }
  function type(ch) {
    if (input.value.length < 50) {
      input.value += ch;
      changed();
    }
  }
  input.addEventListener("input", changed);

  let seq = 0;
  async function suggest() {
    const q = input.value.trim();
    const mine = ++seq;
    if (!q) {
      list.hidden = true;
      list.replaceChildren();
      return;
    }
    const center = document.body.dataset.center || "";
    const url = "/api/v1/matters?limit=6&center=" + encodeURIComponent(center) + "&q=" + encodeURIComponent(q);
    try {
      const res = await fetch(url, { headers: { Accept: "application/json" } });
      if (mine !== seq || !res.ok) return;
      const body = await res.json();
      list.replaceChildren(...body.items.map((m) => {
        const li = document.createElement("li");
        const a = document.createElement("a");
        a.href = "/kiosk/matters/" + encodeURIComponent(m.code);
        a.textContent = m.name;
        li.append(a);
        return li;
      }));
      list.hidden = body.items.length === 0;
    } catch {
      // A network hiccup only loses the suggestions; the form still works.
    }
  }
}

// After a while without a touch, go back to the home page and clear what the
// last citizen typed, so that the next one does not see it.
const idleSeconds = Number(document.body.dataset.idleSeconds) || 0;
if (idleSeconds > 0) {
  let last = Date.now();
  for (const ev of ["pointerdown", "keydown", "input", "scroll"]) {
    addEventListener(ev, () => { last = Date.now(); }, { passive: true, capture: true });
  }
  setInterval(() => {
    if (Date.now() - last < idleSeconds * 1000) return;
    last = Date.now();
    if (location.pathname !== "/kiosk/" || (input && input.value !== "")) {
      location.assign("/kiosk/");
    }
  }, 1000);
}

function key(label, action, name, cls) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.setAttribute("aria-label", name);
  if (cls) b.className = cls;
  b.addEventListener("click", action);
  return b;
}
