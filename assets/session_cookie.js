// Staff session cookie (sipas ui.py): set or clear one cookie; nothing else, no network.
// The token is opaque and useless without the server-side session (hashed in staff_sessions, 30 min
// idle, revocable). JavaScript cannot set HttpOnly; SameSite=Strict always, Secure under HTTPS.
export default function (component) {
  const d = component.data || {};
  const name = String(d.name || "");
  if (!/^[a-z_]+$/.test(name)) return;
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  if (d.action === "set" && typeof d.token === "string" && /^[A-Za-z0-9_-]+$/.test(d.token)) {
    document.cookie = name + "=" + d.token + "; Path=/; SameSite=Strict" + secure;
  } else if (d.action === "clear") {
    document.cookie = name + "=; Path=/; Max-Age=0; SameSite=Strict" + secure;
  }
}
