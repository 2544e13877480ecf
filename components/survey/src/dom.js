// Building the screens: this code never puts data into HTML; every text goes in through
// textContent or an attribute.

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  return node;
}

// A face of the scale, copied from the SVGs ui.py puts in the component's HTML.
export function faceSvg(root, value) {
  const src = root.querySelector(`.faces-src [data-face="${value}"]`);
  const holder = el("span", { class: "img", "aria-hidden": "true" });
  if (src) holder.appendChild(src.firstElementChild.cloneNode(true));
  return holder;
}
