// Signed kiosk API requests from a kiosk's browser, shared by the kiosk
// pages (/kiosk/ticket, /kiosk/check-in, /kiosk/setup) and the development
// demo page (/kiosk/demo).
//
// The browser of a kiosk keeps, for these pages (see README "Kiosk pages"):
//
//   localStorage   "banhao.kiosk.id"       the kiosk's ID ("ks" + 28 hex)
//   localStorage   "banhao.kiosk.secret"   the kiosk's secret, shown once at
//                                          registration; it reaches the server
//                                          only as request signatures
//   localStorage   "banhao.kiosk.printer"  "1" when a ticket printer is attached
//   sessionStorage "banhao.kiosk.card"     the card session token of the citizen
//                                          now at the kiosk
//
// An administrator sets the first three once, at /kiosk/setup. The card
// session token belongs to the card-reader bridge: it starts a session
// (POST /api/v1/kiosk/card-sessions) when an ID card is read and stores the
// token under "banhao.kiosk.card", and removes the key when the card is
// taken out. The pages only read it. In development the /kiosk/demo page
// plays the bridge: "刷卡" sets the key and "取卡" removes it.
//
// A request is signed as identity.SignKioskRequest does: the hex
// HMAC-SHA256, keyed by the UTF-8 bytes of the secret, of
//
//   METHOD \n PATH?QUERY \n TIMESTAMP \n NONCE \n hex(SHA-256(body))
//
// with TIMESTAMP this computer's Unix seconds, which the server accepts
// within 5 minutes of its own clock.

/** Storage keys of the kiosk browser; the contract above. */
export const storageKeys = Object.freeze({
  id: "banhao.kiosk.id",
  secret: "banhao.kiosk.secret",
  printer: "banhao.kiosk.printer",
  card: "banhao.kiosk.card",
});

/** The shape of a kiosk ID, as the server checks it. */
export const kioskIDPattern = /^ks[0-9a-f]{28}$/;

const enc = new TextEncoder();

function read(store, key) {
  try {
    return store.getItem(key) || "";
  } catch {
    return ""; // storage disabled: as if nothing were kept
  }
}

function write(store, key, value) {
  try {
    if (value) store.setItem(key, value);
    else store.removeItem(key);
    return true;
  } catch {
    return false;
  }
}

/** credentials returns the kiosk ID and secret this browser keeps. */
export function credentials() {
  return { id: read(localStorage, storageKeys.id), secret: read(localStorage, storageKeys.secret) };
}

/** saveCredentials keeps a kiosk ID and secret; it reports success. */
export function saveCredentials(id, secret) {
  return write(localStorage, storageKeys.id, id) && write(localStorage, storageKeys.secret, secret);
}

/** forgetCredentials removes the kiosk ID, secret and printer setting. */
export function forgetCredentials() {
  for (const k of [storageKeys.id, storageKeys.secret, storageKeys.printer]) write(localStorage, k, "");
}

/** hasPrinter reports whether the kiosk is set up with a ticket printer. */
export function hasPrinter() {
  return read(localStorage, storageKeys.printer) === "1";
}

/** setPrinter records whether a ticket printer is attached. */
export function setPrinter(on) {
  write(localStorage, storageKeys.printer, on ? "1" : "");
}

/** cardSession returns the token of the card now in the reader, or "". */
export function cardSession() {
  return read(sessionStorage, storageKeys.card);
}

/**
 * setCardSession stores (or, with "", removes) the card session token.
 * Only the card-reader bridge, or the demo page playing it, calls this.
 */
export function setCardSession(token) {
  write(sessionStorage, storageKeys.card, token);
}

function hex(buf) {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** sign returns the request signature (see the format above). */
export async function sign(secret, method, path, timestamp, nonce, body) {
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const bodyHash = hex(await crypto.subtle.digest("SHA-256", enc.encode(body)));
  const message = `${method}\n${path}\n${timestamp}\n${nonce}\n${bodyHash}`;
  return hex(await crypto.subtle.sign("HMAC", key, enc.encode(message)));
}

/** newNonce returns 32 random hex digits, never sent twice. */
export function newNonce() {
  return hex(crypto.getRandomValues(new Uint8Array(16)));
}

/** canSign reports whether this browser can sign: WebCrypto exists only in
 * a secure context (https, or http://localhost). */
export function canSign() {
  return !!(window.crypto && crypto.subtle);
}

/**
 * NotConfigured is thrown by signedFetch when this browser has no kiosk ID
 * and secret, or a malformed ID: nothing was sent.
 */
export class NotConfigured extends Error {
  constructor(message) {
    super(message);
    this.name = "NotConfigured";
  }
}

/**
 * signedFetch sends a signed kiosk API request and returns the response
 * with its parsed JSON body (a result or a problem+json), or data null.
 * Options: session (a card session token for X-Kiosk-Session), and id and
 * secret to sign with other credentials than the stored ones (the setup
 * and demo pages' fields).
 */
export async function signedFetch(method, path, payload, opts = {}) {
  const stored = credentials();
  const id = (opts.id ?? stored.id).trim();
  const secret = opts.secret ?? stored.secret;
  if (!id || !secret) throw new NotConfigured("本机尚未设置终端标识和密钥");
  if (!/^[\x21-\x7e]+$/.test(id)) throw new NotConfigured("终端标识格式不对");
  if (!canSign()) throw new NotConfigured("此浏览器无法签名，请通过 https 或 http://localhost 打开");
  const body = payload === undefined ? "" : JSON.stringify(payload);
  const timestamp = Math.floor(Date.now() / 1000);
  const nonce = newNonce();
  const headers = {
    Accept: "application/json",
    "X-Kiosk-Id": id,
    "X-Kiosk-Timestamp": String(timestamp),
    "X-Kiosk-Nonce": nonce,
    "X-Kiosk-Signature": await sign(secret, method, path, timestamp, nonce, body),
  };
  if (body) headers["Content-Type"] = "application/json";
  if (opts.session) headers["X-Kiosk-Session"] = opts.session;
  const res = await fetch(path, { method, headers, body: body || undefined, cache: "no-store", credentials: "omit" });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  return { res, data };
}
