// The recognizer page: input (drawing or image), the prediction, the history.
import { ApiError, api } from "./api.js";
import { DrawPad } from "./drawpad.js";
import {
  bindLanguageSwitch,
  formatBytes,
  formatDateTime,
  formatDuration,
  formatPercent,
  onLanguageChange,
  t,
  translateDocument,
} from "./i18n.js";
import { prepareImage } from "./images.js";
import { readStored, writeStored } from "./storage.js";
import { drawThumbnail } from "./thumbnail.js";

const CLIENT_ID_KEY = "digits.clientId";
const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const HISTORY_PAGE_SIZE = 10;
// The model's own threshold for a low-confidence prediction (LOW_CONFIDENCE_THRESHOLD).
const LOW_CONFIDENCE = 0.6;

const $ = (id) => document.getElementById(id);

const state = {
  source: "draw",
  file: null,
  fileNote: null,
  busy: false,
  busyText: "busy.recognising",
  result: null,
  error: null,
  history: [],
  nextCursor: null,
  historyError: null,
};

function clientId() {
  const stored = readStored(CLIENT_ID_KEY);
  if (stored && CLIENT_ID_PATTERN.test(stored)) return stored;
  const fresh = newClientId();
  writeStored(CLIENT_ID_KEY, fresh);
  return fresh;
}

function newClientId() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  // randomUUID exists only in secure contexts; the same randomness otherwise.
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function announce(text) {
  const announcer = $("announcer");
  announcer.textContent = "";
  // A fresh text node in the next frame is announced even when it repeats.
  requestAnimationFrame(() => {
    announcer.textContent = text;
  });
}

function errorCodeOf(error) {
  return error instanceof ApiError ? error.code : "InternalError";
}

/* ---------- Input: tabs, drawing, image ---------- */

const pad = new DrawPad($("draw-canvas"), { onChange: renderInput });
const tabs = [$("tab-draw"), $("tab-image")];

function selectSource(source, { focus = false } = {}) {
  state.source = source;
  for (const tab of tabs) {
    const selected = tab.id === `tab-${source}`;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(tab.getAttribute("aria-controls")).hidden = !selected;
    if (selected && focus) tab.focus();
  }
  renderInput();
}

for (const tab of tabs) {
  tab.addEventListener("click", () => selectSource(tab.id.replace("tab-", "")));
  tab.addEventListener("keydown", (event) => {
    const index = tabs.indexOf(tab);
    const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    const target = tabs[(next + tabs.length) % tabs.length];
    selectSource(target.id.replace("tab-", ""), { focus: true });
  });
}

$("undo-button").addEventListener("click", () => pad.undo());
$("clear-button").addEventListener("click", () => pad.clear());
document.addEventListener("keydown", (event) => {
  const inField = event.target.closest?.("input, select, textarea");
  if (state.source === "draw" && !inField && (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") {
    event.preventDefault();
    pad.undo();
  }
});

let previewUrl = null;

function useFile(file) {
  if (!file) return;
  state.file = file;
  state.fileNote = null;
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = URL.createObjectURL(file);
  const preview = $("image-preview");
  preview.hidden = false;
  preview.src = previewUrl;
  selectSource("image");
}

$("image-preview").addEventListener("error", (event) => {
  // Not something the browser can show: keep the file (the server names the problem).
  event.target.hidden = true;
  renderInput();
});
$("image-preview").addEventListener("load", renderInput);

for (const [buttonId, inputId] of [
  ["choose-button", "file-input"],
  ["camera-button", "camera-input"],
]) {
  const input = $(inputId);
  $(buttonId).addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    useFile(input.files?.[0]);
    // The same file chosen twice still fires `change`.
    input.value = "";
  });
}
$("dropzone").addEventListener("click", () => $("file-input").click());

const inputCard = document.querySelector(".input-card");
let dragDepth = 0;
inputCard.addEventListener("dragenter", (event) => {
  if (!event.dataTransfer?.types.includes("Files")) return;
  dragDepth += 1;
  inputCard.classList.add("is-dragging");
  if (state.source !== "image") selectSource("image");
});
inputCard.addEventListener("dragleave", () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) inputCard.classList.remove("is-dragging");
});
// Without this a file dropped anywhere else would replace the page.
window.addEventListener("dragover", (event) => event.preventDefault());
window.addEventListener("drop", (event) => {
  event.preventDefault();
  dragDepth = 0;
  inputCard.classList.remove("is-dragging");
  if (inputCard.contains(event.target)) useFile(event.dataTransfer?.files?.[0]);
});

document.addEventListener("paste", (event) => {
  const file = Array.from(event.clipboardData?.files ?? []).find((each) => each.type.startsWith("image/"));
  if (!file) return;
  event.preventDefault();
  useFile(file);
});

function hasInput() {
  return state.source === "draw" ? !pad.isEmpty : state.file !== null;
}

function renderInput() {
  $("undo-button").disabled = pad.isEmpty;
  $("clear-button").disabled = pad.isEmpty;
  $("pad-hint").hidden = !pad.isEmpty;

  const preview = $("image-preview");
  preview.alt = t("image.previewAlt");
  $("dropzone-empty").hidden = state.file !== null && !preview.hidden;
  const fileName = $("file-name");
  fileName.hidden = state.file === null;
  if (state.file) {
    fileName.textContent = state.fileNote
      ? t("image.resized", state.fileNote)
      : t("image.chosen", { name: state.file.name || "image", size: formatBytes(state.file.size) });
  }

  const button = $("predict-button");
  button.disabled = !hasInput();
  button.setAttribute("aria-disabled", String(state.busy || !hasInput()));
  button.classList.toggle("is-busy", state.busy);
  $("predict-label").textContent = t(state.busy ? "predict.busy" : "predict.idle");
  const hint = $("predict-hint");
  hint.hidden = hasInput();
  hint.textContent = t(state.source === "draw" ? "predict.hintDraw" : "predict.hintImage");
}

/* ---------- Prediction ---------- */

async function imageToSend() {
  if (state.source === "draw") return pad.toDataURL();
  state.busyText = "busy.preparing";
  renderResult();
  const prepared = await prepareImage(state.file);
  if (prepared.resized) {
    state.fileNote = {
      name: state.file.name || "image",
      from: formatBytes(prepared.originalBytes),
      to: formatBytes(prepared.sentBytes),
    };
    renderInput();
  }
  return prepared.dataUrl;
}

async function predict() {
  if (state.busy || !hasInput()) return;
  state.busy = true;
  state.error = null;
  state.busyText = "busy.recognising";
  renderInput();
  renderResult();
  try {
    const image = await imageToSend();
    state.busyText = "busy.recognising";
    renderResult();
    const item = await api.predict(image, clientId());
    state.result = item;
    addToHistory(item);
    announce(t("result.announce", { digit: item.digit, confidence: formatPercent(item.confidence ?? 0) }));
  } catch (error) {
    state.error = errorCodeOf(error);
  } finally {
    state.busy = false;
    renderInput();
    renderResult();
    revealResult();
  }
}

// On one-column layouts the answer is below the input: bring it into view.
function revealResult() {
  const card = $("result-card");
  if (card.getBoundingClientRect().top < window.innerHeight - 120) return;
  const smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  card.scrollIntoView({ behavior: smooth ? "smooth" : "auto", block: "start" });
}

$("predict-button").addEventListener("click", predict);

function renderResult() {
  const showing = state.busy ? "busy" : state.error ? "error" : state.result ? "result" : "empty";
  $("result-empty").hidden = showing !== "empty";
  $("result-busy").hidden = showing !== "busy";
  $("error-box").hidden = showing !== "error";
  $("result").hidden = showing !== "result";
  $("result-card").setAttribute("aria-busy", String(state.busy));
  $("busy-text").textContent = t(state.busyText);

  if (showing === "error") {
    $("error-message").textContent = t(`errors.${state.error}`);
    $("error-code").textContent = t("errors.code", { code: state.error });
  }
  if (showing === "result") renderPrediction(state.result);
}

function renderPrediction(item) {
  const confidence = Number(item.confidence) || 0;
  $("result-digit").textContent = String(item.digit);
  $("result-confidence").textContent = formatPercent(confidence);
  $("low-confidence").hidden = confidence >= LOW_CONFIDENCE;
  $("model-view").hidden = !drawThumbnail($("model-view"), item.thumbnail);

  const chart = $("bar-chart");
  const probabilities = Array.isArray(item.probabilities) ? item.probabilities : [];
  chart.replaceChildren(
    ...probabilities.map((probability, digit) => {
      const value = Number(probability) || 0;
      const bar = document.createElement("li");
      bar.className = digit === item.digit ? "bar is-top" : "bar";
      bar.title = formatPercent(value);
      const spoken = document.createElement("span");
      spoken.className = "visually-hidden";
      spoken.textContent = t("result.bar", { digit, percent: formatPercent(value) });
      const amount = document.createElement("span");
      amount.className = "bar-value";
      amount.setAttribute("aria-hidden", "true");
      amount.textContent = value >= 0.01 ? `${Math.round(value * 100)}%` : "";
      const track = document.createElement("span");
      track.className = "bar-track";
      track.setAttribute("aria-hidden", "true");
      const fill = document.createElement("span");
      fill.className = "bar-fill";
      // CSSOM, not a style attribute: allowed by a strict Content-Security-Policy.
      fill.style.setProperty("--value", String(Math.min(1, Math.max(0, value))));
      track.append(fill);
      const label = document.createElement("span");
      label.className = "bar-label";
      label.setAttribute("aria-hidden", "true");
      label.textContent = String(digit);
      bar.append(spoken, amount, track, label);
      return bar;
    }),
  );

  const timings = Object.values(item.timingsMs ?? {}).filter((value) => typeof value === "number");
  const serverMs = timings.reduce((sum, value) => sum + value, 0);
  $("result-meta").textContent = item.modelVersion
    ? t("result.meta", { model: item.modelVersion, ms: formatDuration(serverMs) })
    : "";
}

/* ---------- History ---------- */

function addToHistory(item) {
  state.history = [item, ...state.history.filter((each) => each.id !== item.id)];
  renderHistory();
}

async function loadHistory({ more = false } = {}) {
  const button = $("more-button");
  button.disabled = true;
  try {
    const page = await api.history(clientId(), {
      limit: HISTORY_PAGE_SIZE,
      cursor: more ? state.nextCursor : undefined,
    });
    const known = new Set(state.history.map((item) => item.id));
    const items = (Array.isArray(page.items) ? page.items : []).filter((item) => !known.has(item.id));
    state.history = more ? [...state.history, ...items] : [...state.history, ...items].sort(newestFirst);
    state.nextCursor = page.nextCursor ?? null;
    state.historyError = null;
  } catch (error) {
    state.historyError = errorCodeOf(error);
  } finally {
    button.disabled = false;
    renderHistory();
  }
}

function newestFirst(a, b) {
  return String(b.createdAt ?? "").localeCompare(String(a.createdAt ?? ""));
}

$("more-button").addEventListener("click", () => loadHistory({ more: true }));

function renderHistory() {
  const list = $("history-list");
  list.replaceChildren(...state.history.map(historyEntry));
  $("history-empty").hidden = state.history.length > 0 || state.historyError !== null;
  $("more-button").hidden = !state.nextCursor;
  const problem = $("history-error");
  problem.hidden = state.historyError === null;
  problem.textContent = state.historyError ? `${t("history.loadError")} ${t(`errors.${state.historyError}`)}` : "";
}

function historyEntry(item) {
  const entry = $("history-item-template").content.firstElementChild.cloneNode(true);
  entry.dataset.id = item.id;
  drawThumbnail(entry.querySelector(".thumb"), item.thumbnail);
  entry.querySelector(".history-digit").textContent = t("history.read", { digit: item.digit });
  entry.querySelector(".history-confidence").textContent = formatPercent(Number(item.confidence) || 0);
  const time = entry.querySelector("time");
  time.dateTime = item.createdAt ?? "";
  time.textContent = formatDateTime(item.createdAt);

  const corrected = entry.querySelector(".history-feedback");
  const hasFeedback = Number.isInteger(item.feedbackLabel);
  corrected.hidden = !hasFeedback;
  corrected.textContent = hasFeedback ? t("history.corrected", { label: item.feedbackLabel }) : "";

  entry.querySelector(".correct-label").textContent = t("history.correctLabel");
  const select = entry.querySelector(".correct-select");
  const placeholder = new Option(t("history.correctNone"), "", false, !hasFeedback);
  placeholder.disabled = true;
  select.append(placeholder);
  for (let digit = 0; digit <= 9; digit += 1) {
    select.append(new Option(String(digit), String(digit), false, item.feedbackLabel === digit));
  }
  const status = entry.querySelector(".correct-status");
  if (item.saveState) status.textContent = t(item.saveState.key, item.saveState.params);
  select.addEventListener("change", () => saveCorrection(item, Number(select.value)));
  return entry;
}

function saveCorrection(item, label) {
  setSaveState(item, { key: "history.saving" });
  // One request at a time per item, so the last choice is the one stored.
  item.saving = (item.saving ?? Promise.resolve()).then(async () => {
    try {
      const updated = await api.feedback(item.id, clientId(), label);
      Object.assign(item, updated);
      setSaveState(item, { key: "history.saved" });
    } catch (error) {
      setSaveState(item, { key: `errors.${errorCodeOf(error)}` });
    }
  });
}

function setSaveState(item, saveState) {
  item.saveState = saveState;
  const entry = Array.from($("history-list").children).find((each) => each.dataset.id === item.id);
  if (!entry) return;
  const fresh = historyEntry(item);
  const focused = entry.contains(document.activeElement);
  entry.replaceWith(fresh);
  if (focused) fresh.querySelector(".correct-select").focus();
}

/* ---------- Start ---------- */

async function showConsoleLinkOnLocalStack() {
  try {
    const health = await api.health();
    $("console-link").hidden = health?.stack !== "local";
  } catch {
    // No link: the console is only for the local stack.
  }
}

translateDocument();
bindLanguageSwitch($("language-switch"));
onLanguageChange(() => {
  renderInput();
  renderResult();
  renderHistory();
});
renderInput();
renderResult();
loadHistory();
showConsoleLinkOnLocalStack();
