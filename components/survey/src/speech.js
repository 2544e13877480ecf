// "🔊 Nghe": read a question aloud, only where the device has a Vietnamese voice.

export function findVoice(win) {
  if (!("speechSynthesis" in win)) return null;
  const voices = win.speechSynthesis.getVoices() || [];
  return voices.find((v) => (v.lang || "").toLowerCase().startsWith("vi")) || null;
}

export function speak(win, voice, text) {
  if (!voice) return;
  win.speechSynthesis.cancel();
  const u = new win.SpeechSynthesisUtterance(text);
  u.voice = voice;
  u.lang = voice.lang;
  u.rate = 0.9;
  win.speechSynthesis.speak(u);
}

// What "Nghe" reads on a question screen: the question, then its answers.
export function spokenText(sc, scale) {
  const parts = [sc.text];
  if (sc.kind === "scale") for (const s of scale) parts.push(s.label);
  else if (sc.options) for (const o of sc.options) parts.push(o.label);
  return parts.join(". ");
}
