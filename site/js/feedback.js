// Corrections as an explicit action: "Right" or "It was …" a digit, undoable
// for a few seconds, then saved with exactly one request. Moving through the
// digits with the keyboard sends nothing; choosing one again within the
// window replaces the pending choice. A choice still pending when the page
// closes is sent on the way out.
import { ApiError, api } from "./api.js";
import { t } from "./i18n.js";

export const UNDO_WINDOW_MS = 5000;

const pending = new Map(); // item id -> { item, label, timer }
const statuses = new Map(); // item id -> "saving" | "saved" | error code
const openPickers = new Set(); // `${place}:${id}`
let settings = { clientId: () => "", onSaved: () => {} };

export function initFeedback(options) {
  settings = options;
  window.addEventListener("pagehide", () => {
    for (const [id, choice] of pending) {
      clearTimeout(choice.timer);
      api.feedback(id, settings.clientId(), choice.label, { keepalive: true }).catch(() => {});
    }
    pending.clear();
  });
}

function choose(item, label) {
  const earlier = pending.get(item.id);
  if (earlier) clearTimeout(earlier.timer);
  pending.set(item.id, { item, label, timer: setTimeout(() => save(item.id), UNDO_WINDOW_MS) });
  statuses.delete(item.id);
}

function undo(id) {
  const choice = pending.get(id);
  if (!choice) return;
  clearTimeout(choice.timer);
  pending.delete(id);
}

async function save(id) {
  const choice = pending.get(id);
  if (!choice) return;
  pending.delete(id);
  statuses.set(id, "saving");
  refreshFeedback(id);
  try {
    const updated = await api.feedback(id, settings.clientId(), choice.label);
    statuses.set(id, "saved");
    settings.onSaved(updated);
  } catch (error) {
    statuses.set(id, error instanceof ApiError ? error.code : "InternalError");
  }
  refreshFeedback(id);
}

function statusText(item) {
  const choice = pending.get(item.id);
  if (choice) {
    return choice.label === item.digit ? t("feedback.pendingRight") : t("feedback.pendingCorrected", { label: choice.label });
  }
  const status = statuses.get(item.id);
  if (status === "saving") return t("feedback.saving");
  if (status === "saved") return t("feedback.saved");
  if (status) return `${t("feedback.notSaved")} ${t(`errors.${status}`)}`;
  return "";
}

function button(className, text, focusKey, attributes = {}) {
  const node = document.createElement("button");
  node.type = "button";
  node.className = className;
  node.textContent = text;
  node.dataset.focusKey = focusKey;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

/** The correction controls of one item, for the result panel or a history entry. */
function feedbackControls(item, place) {
  const key = `${place}:${item.id}`;
  const root = document.createElement("div");
  root.className = "feedback";
  root.dataset.id = item.id;
  root.dataset.place = place;
  const choice = pending.get(item.id);
  const label = choice ? choice.label : item.feedbackLabel;

  const right = button("button button-small", t("feedback.right"), "right", {
    "aria-pressed": String(label === item.digit),
    "data-testid": "feedback-right",
  });
  right.prepend(icon("M5 12.5l4.5 4.5L19 7"));
  right.addEventListener("click", () => {
    choose(item, item.digit);
    refreshFeedback(item.id, "undo");
  });

  const pickerId = `picker-${place}-${item.id}`;
  const open = openPickers.has(key);
  const pick = button("button button-small", t("feedback.itWas"), "pick", {
    "aria-expanded": String(open),
    "aria-controls": pickerId,
    "data-testid": "feedback-pick",
  });
  pick.addEventListener("click", () => {
    if (openPickers.has(key)) openPickers.delete(key);
    else openPickers.add(key);
    refreshFeedback(item.id, openPickers.has(key) ? firstDigitKey(item) : "pick");
  });

  const actions = document.createElement("div");
  actions.className = "feedback-actions";
  actions.append(right, pick);

  const picker = document.createElement("div");
  picker.className = "digit-picker";
  picker.id = pickerId;
  picker.hidden = !open;
  picker.setAttribute("role", "group");
  picker.setAttribute("aria-label", t("feedback.pickerLabel"));
  const focusable = firstDigitKey(item);
  for (let digit = 0; digit <= 9; digit += 1) {
    const choiceButton = button("digit-choice", String(digit), `digit-${digit}`, { "data-digit": String(digit) });
    // The digit read is not a correction: "Right" says that.
    choiceButton.disabled = digit === item.digit;
    choiceButton.tabIndex = `digit-${digit}` === focusable ? 0 : -1;
    if (digit === label && digit !== item.digit) choiceButton.setAttribute("aria-pressed", "true");
    choiceButton.addEventListener("click", () => {
      choose(item, digit);
      openPickers.delete(key);
      refreshFeedback(item.id, "undo");
    });
    choiceButton.addEventListener("keydown", (event) => moveAmongDigits(event, picker, key, item));
    picker.append(choiceButton);
  }

  const status = document.createElement("p");
  status.className = "feedback-status small";
  status.setAttribute("role", "status");
  status.dataset.testid = "feedback-status";
  status.textContent = statusText(item);
  if (choice) {
    const undoButton = button("button button-small button-quiet", t("feedback.undo"), "undo", { "data-testid": "feedback-undo" });
    undoButton.addEventListener("click", () => {
      undo(item.id);
      refreshFeedback(item.id, "pick");
    });
    status.append(" ", undoButton);
  }
  root.append(actions, picker, status);
  return root;
}

function icon(path) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "icon");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const line = document.createElementNS("http://www.w3.org/2000/svg", "path");
  line.setAttribute("d", path);
  svg.append(line);
  return svg;
}

function firstDigitKey(item) {
  return `digit-${item.digit === 0 ? 1 : 0}`;
}

/** Arrow keys, Home and End move between the digits (one tab stop for the group); Escape closes it. */
function moveAmongDigits(event, picker, key, item) {
  const choices = Array.from(picker.querySelectorAll(".digit-choice:not(:disabled)"));
  const index = choices.indexOf(event.currentTarget);
  const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
  let target = null;
  if (step) target = choices[(index + step + choices.length) % choices.length];
  else if (event.key === "Home") target = choices[0];
  else if (event.key === "End") target = choices[choices.length - 1];
  else if (event.key === "Escape") {
    event.preventDefault();
    openPickers.delete(key);
    refreshFeedback(item.id, "pick");
    return;
  }
  if (!target) return;
  event.preventDefault();
  for (const each of choices) each.tabIndex = each === target ? 0 : -1;
  target.focus();
}

const items = new WeakMap(); // controls -> their item

/** Rebuilds the controls of one item (or of all) wherever they are shown. */
export function refreshFeedback(id = null, focusKey = null) {
  for (const old of document.querySelectorAll(".feedback")) {
    const item = items.get(old);
    if (!item || (id !== null && old.dataset.id !== id)) continue;
    mountFeedback(old.parentElement, item, old.dataset.place, focusKey);
  }
}

/**
 * Puts an item's controls into ``slot``. If the focus was in the controls it
 * stays on the same control, or moves to ``focusKey`` (a data-focus-key): the
 * one a person's action leads to.
 */
export function mountFeedback(slot, item, place, focusKey = null) {
  const old = slot.querySelector(".feedback");
  const hadFocus = Boolean(old?.contains(document.activeElement));
  const key = focusKey ?? (hadFocus ? document.activeElement.dataset.focusKey : null);
  const fresh = feedbackControls(item, place);
  items.set(fresh, item);
  slot.replaceChildren(fresh);
  const target = hadFocus && key ? fresh.querySelector(`[data-focus-key="${key}"]`) : null;
  if (target && !target.closest("[hidden]")) target.focus();
}
