// The drop zone's row of an upload: its name, progress bar, state, detail and buttons,
// as the per-file rows (uploader.js) and a big batch's one row (batch.js) both show it.

import { fill } from "./text.js";

export function button(label, action) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = "button small";
  element.textContent = label;
  element.dataset.action = action;
  return element;
}

// uploadRow(texts, "reel.mov", {pause: "Pause", cancel: "Cancel"}) → the row's parts,
// its buttons by action, in that order; the caller appends the row where it belongs.
export function uploadRow(texts, label, buttons) {
  const item = document.createElement("li");
  item.className = "upload-row";
  const name = document.createElement("span");
  name.className = "upload-name";
  name.textContent = label;
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  bar.setAttribute("aria-label", fill(texts.textProgressLabel, { name: label }));
  const state = document.createElement("span");
  state.className = "upload-state";
  const detail = document.createElement("span");
  detail.className = "upload-detail muted";
  const actions = document.createElement("span");
  actions.className = "upload-actions";
  const made = {};
  for (const [action, text] of Object.entries(buttons)) {
    made[action] = button(text, action);
    actions.append(made[action]);
  }
  item.append(name, bar, state, detail, actions);
  return { item, bar, state, detail, ...made };
}
