// The recognizer page: input (drawing or image) recognised as it comes, the
// answer, and the history a person owns (open, correct, delete, clear).
import { ApiError, api } from "./api.js";
import { DrawPad } from "./drawpad.js";
import { initFeedback, mountFeedback, refreshFeedback } from "./feedback.js";
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
import { fileProblem, prepareImage } from "./images.js";
import { readStored, writeStored } from "./storage.js";
import { drawThumbnail } from "./thumbnail.js";

const CLIENT_ID_KEY = "digits.clientId";
const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const HISTORY_PAGE_SIZE = 10;
// A pause after a stroke before recognising: a second stroke started meanwhile waits for its end.
const LIVE_DELAY_MS = 350;
// An answer quicker than this never shows "Recognising…" (it would only flicker).
const BUSY_DELAY_MS = 150;
// An unsure answer names a runner-up when the two hold most of the probability and
// the second has at least half the first's. Otherwise no digit stands out: the
// model spreads its answer when the image looks like no digit at all.
const RUNNER_UP_SHARE = 0.5;
const TWO_DIGIT_MASS = 0.8;
const SOURCES = ["draw", "image"];

const $ = (id) => document.getElementById(id);

const state = {
  source: "draw",
  file: null,
  fileNote: null,
  // Every change of an input gets a new version; an answer belongs to the version it was asked for.
  versions: { draw: 0, image: 0 },
  answers: { draw: null, image: null }, // { item, version }
  errors: { draw: null, image: null }, // { code, version }
  preparing: false,
  inFlight: false,
  rerun: false,
  busySource: null, // the input whose answer is taking long enough to say so
  historyView: null, // an item of the history shown in the result panel
  history: [],
  nextCursor: null,
  historyError: null,
  deleting: new Set(),
  confirmingDelete: null,
  consoleAvailable: false,
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

let liveTimer = null;

const pad = new DrawPad($("draw-canvas"), {
  onChange: () => inputChanged("draw"),
  onStrokeStart: () => clearTimeout(liveTimer),
  onStrokeEnd: () => recogniseSoon(),
});
const tabs = [$("tab-draw"), $("tab-image")];

function selectSource(source, { focus = false } = {}) {
  state.source = source;
  state.historyView = null;
  for (const tab of tabs) {
    const selected = tab.id === `tab-${source}`;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(tab.getAttribute("aria-controls")).hidden = !selected;
    if (selected && focus) tab.focus();
  }
  $("draw-tools").hidden = source !== "draw";
  $("image-tools").hidden = source !== "image";
  render();
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

/** The input of ``source`` changed: its answer is stale, its error gone; a drawing is recognised once the hand rests. */
function inputChanged(source) {
  state.versions[source] += 1;
  state.errors[source] = null;
  state.historyView = null;
  if (source === "draw" && !pad.isEmpty) recogniseSoon();
  render();
}

function recogniseSoon() {
  clearTimeout(liveTimer);
  liveTimer = setTimeout(() => {
    // A stroke the browser cancelled (a two-finger scroll) changed nothing.
    if (state.answers[state.source]?.version !== state.versions[state.source]) recognise();
  }, LIVE_DELAY_MS);
}

let previewUrl = null;

async function useFile(file) {
  if (!file) return;
  state.file = file;
  state.fileNote = null;
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = null;
  $("image-preview").hidden = true;
  if (state.source !== "image") selectSource("image");
  inputChanged("image");
  const version = state.versions.image;
  const problem = await fileProblem(file);
  if (state.versions.image !== version) return;
  if (problem) {
    // Said at once, without a round trip: the server would only say the same.
    state.errors.image = { code: problem, version, clientSide: true };
    render();
    return;
  }
  previewUrl = URL.createObjectURL(file);
  $("image-preview").src = previewUrl;
  $("image-preview").hidden = false;
  render();
  recognise();
}

$("image-preview").addEventListener("error", (event) => {
  // Not something the browser can show: keep the file (the server names the problem).
  event.target.hidden = true;
  render();
});

const hasCamera = window.matchMedia("(pointer: coarse)").matches;
$("camera-button").hidden = !hasCamera;
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

for (const button of document.querySelectorAll("[data-sample]")) {
  button.addEventListener("click", async () => {
    const path = button.dataset.sample;
    try {
      const response = await fetch(path);
      if (!response.ok) throw new ApiError("NotFound");
      const blob = await response.blob();
      await useFile(new File([blob], path.split("/").pop(), { type: blob.type }));
    } catch (error) {
      if (state.source !== "image") selectSource("image");
      state.errors.image = { code: errorCodeOf(error), version: state.versions.image };
      render();
    }
  });
}

function hasInput(source = state.source) {
  return source === "draw" ? !pad.isEmpty : state.file !== null;
}

/* ---------- Recognition: at most one request in flight, the newest input wins ---------- */

async function imageToSend(source) {
  if (source === "draw") return pad.toDataURL();
  state.preparing = true;
  try {
    const prepared = await prepareImage(state.file);
    if (prepared.resized) {
      state.fileNote = {
        name: state.file.name || "image",
        from: formatBytes(prepared.originalBytes),
        to: formatBytes(prepared.sentBytes),
      };
    }
    return prepared.dataUrl;
  } finally {
    state.preparing = false;
  }
}

async function recognise() {
  clearTimeout(liveTimer);
  const source = state.source;
  if (!hasInput(source) || state.errors[source]?.version === state.versions[source]) return;
  if (state.inFlight) {
    state.rerun = true;
    return;
  }
  const version = state.versions[source];
  state.inFlight = true;
  const busyTimer = setTimeout(() => {
    state.busySource = source;
    render();
  }, BUSY_DELAY_MS);
  render();
  try {
    const image = await imageToSend(source);
    const item = await api.predict(image, clientId());
    addToHistory(item);
    state.answers[source] = { item, version };
    if (state.versions[source] === version && state.source === source) announce(answerSentence(item));
  } catch (error) {
    state.errors[source] = { code: errorCodeOf(error), version };
  } finally {
    clearTimeout(busyTimer);
    state.inFlight = false;
    state.busySource = null;
    render();
  }
  if (state.rerun) {
    state.rerun = false;
    recognise();
  } else {
    revealResult();
  }
}

$("predict-button").addEventListener("click", () => {
  // An explicit request: also for an input already answered, or one the server refused.
  state.errors[state.source] = null;
  recognise();
});

// On one-column layouts the answer is below the input: bring it into view.
function revealResult() {
  const card = $("result-card");
  if (card.getBoundingClientRect().top < window.innerHeight - 120) return;
  const smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  card.scrollIntoView({ behavior: smooth ? "smooth" : "auto", block: "start" });
}

/* ---------- Rendering ---------- */

function render() {
  renderInput();
  renderResult();
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
  const error = state.errors[state.source];
  // A file the page already knows is no image is not worth a round trip.
  button.disabled = !hasInput() || Boolean(error?.clientSide && error.version === state.versions[state.source]);
  button.setAttribute("aria-disabled", String(state.inFlight || !hasInput()));
  $("predict-label").textContent = t("predict.idle");
}

/** What the result panel shows now: a history item, this input's answer (maybe stale), its error, or nothing. */
function shown() {
  if (state.historyView) return { kind: "result", item: state.historyView, fromHistory: true };
  const source = state.source;
  if (!hasInput(source)) return { kind: "empty" };
  const error = state.errors[source];
  if (error && error.version === state.versions[source]) return { kind: "error", code: error.code };
  const answer = state.answers[source];
  if (answer) return { kind: "result", item: answer.item, stale: answer.version !== state.versions[source] };
  return { kind: busy() ? "busy" : "empty" };
}

function busy() {
  return state.busySource !== null && state.busySource === state.source;
}

function renderResult() {
  const view = shown();
  $("result-empty").hidden = view.kind !== "empty";
  $("result-busy").hidden = view.kind !== "busy";
  $("error-box").hidden = view.kind !== "error";
  $("result").hidden = view.kind !== "result";
  $("result-card").setAttribute("aria-busy", String(busy()));
  $("busy-text").textContent = t(state.preparing ? "busy.preparing" : "busy.recognising");
  $("empty-text").textContent = t(hasInput() ? "result.waiting" : state.source === "draw" ? "result.emptyDraw" : "result.emptyImage");

  const note = $("result-note");
  const noteKey =
    view.kind !== "result" ? null : busy() && view.stale ? "result.updating" : view.stale ? "result.stale" : view.fromHistory ? "result.fromHistory" : null;
  note.hidden = noteKey === null;
  note.textContent = noteKey ? t(noteKey, { time: formatDateTime(view.item?.createdAt) }) : "";
  $("result").classList.toggle("is-stale", Boolean(view.stale));

  if (view.kind === "error") {
    $("error-message").textContent = t(`errors.${view.code}`);
    $("error-code").textContent = t("errors.code", { code: view.code });
  }
  if (view.kind === "result") renderPrediction(view.item);
}

function runnerUp(item) {
  const ranked = (item.probabilities ?? []).map((value, digit) => ({ digit, value: Number(value) || 0 })).sort((a, b) => b.value - a.value);
  const [first, second] = ranked;
  const close = second && first && second.value >= first.value * RUNNER_UP_SHARE && first.value + second.value >= TWO_DIGIT_MASS;
  return close ? second.digit : null;
}

function unsureText(item) {
  const other = runnerUp(item);
  return other === null ? t("result.notDigit") : t("result.unsure", { digit: item.digit, other });
}

function answerSentence(item) {
  const sentence = t("result.announce", { digit: item.digit, confidence: formatPercent(Number(item.confidence) || 0) });
  return item.lowConfidence ? `${sentence} ${unsureText(item)}` : sentence;
}

function renderPrediction(item) {
  const confidence = Number(item.confidence) || 0;
  $("result-digit").textContent = String(item.digit);
  $("result-confidence").textContent = formatPercent(confidence);
  const unsure = Boolean(item.lowConfidence);
  $("result-digit-box").classList.toggle("is-unsure", unsure);
  $("low-confidence").hidden = !unsure;
  $("low-confidence").textContent = unsure ? unsureText(item) : "";
  $("model-view").hidden = !drawThumbnail($("model-view"), item.thumbnail);
  renderBars(item);
  mountFeedback($("result-feedback"), item, "result");

  const timings = Object.values(item.timingsMs ?? {}).filter((value) => typeof value === "number");
  const serverMs = timings.reduce((sum, value) => sum + value, 0);
  $("result-meta").textContent = item.modelVersion
    ? t("result.meta", { model: item.modelVersion, ms: formatDuration(serverMs) })
    : "";
  setRunLink($("result-run"), item);
}

/** Ten bars made once and then updated, so that a new answer moves them (CSS transitions) instead of redrawing them. */
function renderBars(item) {
  const chart = $("bar-chart");
  if (chart.children.length !== 10) {
    chart.replaceChildren(
      ...Array.from({ length: 10 }, (_, digit) => {
        const bar = document.createElement("li");
        bar.className = "bar";
        bar.innerHTML =
          '<span class="visually-hidden"></span><span class="bar-value" aria-hidden="true"></span>' +
          '<span class="bar-track" aria-hidden="true"><span class="bar-fill"></span></span>' +
          `<span class="bar-label" aria-hidden="true">${digit}</span>`;
        return bar;
      }),
    );
  }
  const probabilities = Array.isArray(item.probabilities) ? item.probabilities : [];
  Array.from(chart.children).forEach((bar, digit) => {
    const value = Math.min(1, Math.max(0, Number(probabilities[digit]) || 0));
    const percent = formatPercent(value);
    bar.classList.toggle("is-top", digit === item.digit);
    bar.title = percent;
    bar.querySelector(".visually-hidden").textContent = t("result.bar", { digit, percent });
    bar.querySelector(".bar-value").textContent = value >= 0.005 ? percent : "";
    // CSSOM, not a style attribute: allowed by a strict Content-Security-Policy.
    bar.querySelector(".bar-fill").style.setProperty("--value", String(value));
  });
}

function setRunLink(link, item) {
  link.hidden = !state.consoleAvailable;
  link.href = `console.html#${encodeURIComponent(item.id)}`;
  link.textContent = t("history.run");
}

/* ---------- History ---------- */

function addToHistory(item) {
  state.history = [item, ...state.history.filter((each) => each.id !== item.id)];
  renderHistory();
}

async function loadHistory({ more = false } = {}) {
  const button = $("more-button");
  button.disabled = true;
  $("history-retry").disabled = true;
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
    state.historyError = { code: errorCodeOf(error), key: "history.loadError", retry: () => loadHistory({ more }) };
  } finally {
    button.disabled = false;
    $("history-retry").disabled = false;
    renderHistory();
  }
}

function newestFirst(a, b) {
  return String(b.createdAt ?? "").localeCompare(String(a.createdAt ?? ""));
}

$("more-button").addEventListener("click", () => loadHistory({ more: true }));
$("history-retry").addEventListener("click", () => state.historyError?.retry());

function renderHistory() {
  const list = $("history-list");
  const focused = list.contains(document.activeElement) ? document.activeElement : null;
  const focusedId = focused?.closest(".history-item")?.dataset.id;
  list.replaceChildren(...state.history.map(historyEntry));
  if (focused) focusInEntry(focusedId, focused.dataset.focusKey);

  $("history-empty").hidden = state.history.length > 0 || state.historyError !== null;
  $("more-button").hidden = !state.nextCursor;
  $("clear-history").hidden = state.history.length === 0;
  const problem = $("history-error");
  problem.hidden = state.historyError === null;
  $("history-error-text").textContent = state.historyError
    ? `${t(state.historyError.key)} ${t(`errors.${state.historyError.code}`)}`
    : "";
}

/** Focus on a control (by its data-focus-key) of a history entry, once the list is rebuilt. */
function focusInEntry(id, focusKey) {
  const entry = Array.from($("history-list").children).find((each) => each.dataset.id === id);
  const target = entry && focusKey ? entry.querySelector(`[data-focus-key="${focusKey}"]`) : null;
  if (target && !target.closest("[hidden]")) target.focus();
}

function historyEntry(item) {
  const entry = $("history-item-template").content.firstElementChild.cloneNode(true);
  entry.dataset.id = item.id;
  entry.classList.toggle("is-open", state.historyView?.id === item.id);
  drawThumbnail(entry.querySelector(".thumb"), item.thumbnail);
  entry.querySelector(".history-digit").textContent = t("history.read", { digit: item.digit });
  entry.querySelector(".history-confidence").textContent = formatPercent(Number(item.confidence) || 0);
  const unsure = entry.querySelector(".history-unsure");
  unsure.hidden = !item.lowConfidence;
  unsure.textContent = t("history.unsure");
  const time = entry.querySelector("time");
  time.dateTime = item.createdAt ?? "";
  time.textContent = formatDateTime(item.createdAt);

  const feedback = entry.querySelector(".history-feedback");
  const hasFeedback = Number.isInteger(item.feedbackLabel);
  feedback.hidden = !hasFeedback;
  feedback.textContent = !hasFeedback
    ? ""
    : item.feedbackLabel === item.digit
      ? t("history.confirmed")
      : t("history.corrected", { label: item.feedbackLabel });

  const open = entry.querySelector(".history-open");
  entry.querySelector(".history-open-hint").textContent = t("history.open");
  open.addEventListener("click", () => {
    state.historyView = item;
    renderResult();
    renderHistory();
    revealResult();
  });
  mountFeedback(entry.querySelector(".feedback-slot"), item, "history");
  setRunLink(entry.querySelector(".run-link"), item);

  const remove = entry.querySelector(".history-delete");
  remove.textContent = t("history.delete");
  remove.setAttribute("aria-label", t("history.deleteLabel", { digit: item.digit, time: formatDateTime(item.createdAt) }));
  const confirming = state.confirmingDelete === item.id;
  const deleting = state.deleting.has(item.id);
  entry.querySelector(".history-actions").hidden = confirming;
  const confirm = entry.querySelector(".history-confirm");
  confirm.hidden = !confirming;
  confirm.setAttribute("aria-label", t("history.deleteQuestion"));
  confirm.querySelector("p").textContent = deleting ? t("history.deleting") : item.deleteError ? t(`errors.${item.deleteError}`) : t("history.deleteQuestion");
  const keep = confirm.querySelector(".history-keep");
  keep.textContent = t("history.keep");
  keep.disabled = deleting;
  const sure = confirm.querySelector(".history-delete-confirm");
  sure.textContent = t("history.delete");
  sure.disabled = deleting;

  remove.addEventListener("click", () => {
    state.confirmingDelete = item.id;
    renderHistory();
    focusInEntry(item.id, "delete-confirm");
  });
  keep.addEventListener("click", () => {
    state.confirmingDelete = null;
    item.deleteError = null;
    renderHistory();
    focusInEntry(item.id, "delete");
  });
  sure.addEventListener("click", () => deleteItem(item));
  return entry;
}

async function deleteItem(item) {
  state.deleting.add(item.id);
  item.deleteError = null;
  renderHistory();
  try {
    await api.remove(item.id, clientId());
    forget([item.id]);
    announce(t("history.deleted"));
    $("history-heading").focus();
  } catch (error) {
    // Already gone is what was asked for.
    if (errorCodeOf(error) === "NotFound") forget([item.id]);
    else item.deleteError = errorCodeOf(error);
  } finally {
    state.deleting.delete(item.id);
    renderHistory();
  }
}

/** Items no longer on the server: out of the list and out of the result panel. */
function forget(ids) {
  const gone = new Set(ids);
  state.history = state.history.filter((item) => !gone.has(item.id));
  if (state.confirmingDelete && gone.has(state.confirmingDelete)) state.confirmingDelete = null;
  if (state.historyView && gone.has(state.historyView.id)) state.historyView = null;
  for (const source of SOURCES) {
    if (state.answers[source] && gone.has(state.answers[source].item.id)) state.answers[source] = null;
  }
  renderHistory();
  renderResult();
}

function askToClear() {
  // Closing with Escape keeps the last value: start from none.
  $("clear-dialog").returnValue = "";
  $("clear-dialog").showModal();
}

$("clear-history").addEventListener("click", askToClear);
$("clear-dialog").addEventListener("close", async () => {
  if ($("clear-dialog").returnValue !== "clear") return;
  const button = $("clear-history");
  button.disabled = true;
  try {
    await api.clear(clientId());
    forget(state.history.map((item) => item.id));
    state.nextCursor = null;
    state.historyError = null;
    announce(t("history.cleared"));
  } catch (error) {
    state.historyError = { code: errorCodeOf(error), key: "history.clearError", retry: askToClear };
  } finally {
    button.disabled = false;
    renderHistory();
    // The button is gone with the history: the focus goes to the section.
    if (button.hidden) $("history-heading").focus();
  }
});

/* ---------- Start ---------- */

async function showConsoleLinksOnLocalStack() {
  try {
    const health = await api.health();
    state.consoleAvailable = health?.stack === "local";
  } catch {
    // No links: the console is only for the local stack.
  }
  $("console-link").hidden = !state.consoleAvailable;
  renderHistory();
  renderResult();
}

initFeedback({
  clientId,
  onSaved: (updated) => {
    for (const item of [...state.history, state.historyView, ...SOURCES.map((source) => state.answers[source]?.item)]) {
      if (item && item.id === updated.id) Object.assign(item, updated);
    }
    renderHistory();
    renderResult();
  },
});
$("api-example").textContent = $("api-example").textContent.replace("/api/", `${window.location.origin}/api/`);
translateDocument();
bindLanguageSwitch($("language-switch"));
onLanguageChange(() => {
  render();
  renderHistory();
  refreshFeedback();
});
render();
loadHistory();
showConsoleLinksOnLocalStack();
