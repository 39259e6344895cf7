// The executions console of the local stack: recent workflow executions, and
// one execution as a timeline of its states, like the Step Functions console.
// Everything is rendered defensively: any field may be missing. Each execution
// is named after the prediction item it creates, so the page links a history
// item here with `console.html#<item id>`.
import { ApiError, ERROR_CODES, api } from "./api.js";
import {
  bindLanguageSwitch,
  formatBytes,
  formatDateTime,
  formatDuration,
  formatShortDateTime,
  hasText,
  language,
  onLanguageChange,
  t,
  translateDocument,
} from "./i18n.js";
import { drawThumbnail } from "./thumbnail.js";

// Long strings are shortened in the JSON views, in the one style the server's
// records use too: the first characters, then how many there were.
const LONG_STRING = 160;
const SHORTENED_KEEP = 24;
const SERVER_SHORTENED = /^([\s\S]{64})\.\.\. \(([\d,]+) characters\)$/;
// Fields that hold pictures: the upload (an image file in base64), the 28x28
// thumbnail (uint8) and the tensor (little-endian float32) the model read.
const PICTURE_FIELDS = { image: "console.image", thumbnail: "console.thumbnail", tensor: "console.tensor" };
const SIDE = 28;
// Errors people cause (a bad upload, say) need no stack trace: only a bug does.
const EXPECTED_ERRORS = new Set(ERROR_CODES.filter((code) => code !== "InternalError"));
const DETAIL_FETCHES = 4;

const $ = (id) => document.getElementById(id);

const state = {
  executions: [],
  listError: null,
  filter: "",
  selected: null,
  detail: null,
  detailError: null,
};
// Finished executions never change: their details are fetched once, for the digit each row shows.
const details = new Map();

const executionKey = (execution) => execution?.name || execution?.executionArn || "";

function element(tag, { className, text, attributes = {} } = {}, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function errorText(error) {
  const code = error instanceof ApiError ? error.code : "InternalError";
  return t(`errors.${code}`);
}

function parseMaybeJson(value) {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function toTime(iso) {
  const time = Date.parse(iso ?? "");
  return Number.isNaN(time) ? null : time;
}

function durationOf(item) {
  if (typeof item?.durationMs === "number") return item.durationMs;
  const start = toTime(item?.startDate);
  const stop = toTime(item?.stopDate);
  return start !== null && stop !== null ? stop - start : null;
}

function statusBadge(status, node = element("span")) {
  const known = hasText(`status.${status}`);
  node.className = `status-badge status-${known ? status.toLowerCase() : "unknown"}`;
  node.textContent = known ? t(`status.${status}`) : String(status ?? "–");
  return node;
}

function shortenedText(start, count) {
  return `${start.slice(0, SHORTENED_KEEP)}${t("console.shortenedValue", { count: new Intl.NumberFormat(language()).format(count) })}`;
}

/** A picture of a field's value, or null when it is none (or was shortened away). */
function picture(key, value) {
  if (!(key in PICTURE_FIELDS) || typeof value !== "string" || SERVER_SHORTENED.test(value)) return null;
  let node = null;
  if (key === "image") {
    const match = /^data:(image\/[\w.+-]+);base64,/.exec(value);
    const type = match?.[1] ?? imageType(value);
    if (!type) return null;
    node = element("img", { attributes: { src: match ? value : `data:${type};base64,${value}`, alt: "" } });
  } else {
    node = element("canvas", { className: "thumb", attributes: { "aria-hidden": "true" } });
    const ok = key === "thumbnail" ? drawThumbnail(node, value) : drawTensor(node, value);
    if (!ok) return null;
  }
  return element("figure", { className: "picture" }, [node, element("figcaption", { className: "muted small", text: t(PICTURE_FIELDS[key]) })]);
}

// An upload's format from the first bytes of its base64, as the server sniffs it.
const BASE64_SIGNATURES = { iVBORw0KGgo: "image/png", "/9j/": "image/jpeg", R0lGOD: "image/gif", UklGR: "image/webp", Qk: "image/bmp" };

function imageType(base64) {
  const found = Object.entries(BASE64_SIGNATURES).find(([start]) => base64.startsWith(start));
  return found?.[1] ?? null;
}

function drawTensor(canvas, base64) {
  let bytes;
  try {
    bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  } catch {
    return false;
  }
  if (bytes.length !== SIDE * SIDE * 4) return false;
  const values = new DataView(bytes.buffer);
  const levels = Array.from({ length: SIDE * SIDE }, (_, index) => Math.round(Math.min(1, Math.max(0, values.getFloat32(index * 4, true))) * 255));
  return drawThumbnail(canvas, btoa(String.fromCharCode(...levels)));
}

/** Pretty JSON with long strings shortened and pictures taken out; says whether anything was shortened. */
function prettyJson(value) {
  let shortened = false;
  const pictures = [];
  const text = JSON.stringify(
    parseMaybeJson(value),
    (key, each) => {
      const shown = picture(key, each);
      if (shown) {
        pictures.push(shown);
        return t("console.picture");
      }
      if (typeof each !== "string") return each;
      const cut = SERVER_SHORTENED.exec(each);
      if (cut) {
        shortened = true;
        return shortenedText(cut[1], Number(cut[2].replaceAll(",", "")));
      }
      if (each.length > LONG_STRING) {
        shortened = true;
        return shortenedText(each, each.length);
      }
      return each;
    },
    2,
  );
  return { text: text ?? "null", shortened, pictures };
}

function jsonBlock(title, value, bytes) {
  const { text, shortened, pictures } = prettyJson(value);
  const summary = element("summary", { text: typeof bytes === "number" ? `${title} · ${formatBytes(bytes)}` : title });
  if (shortened) summary.append(element("span", { className: "muted small", text: ` · ${t("console.shortened")}` }));
  const body = pictures.length ? [element("div", { className: "pictures" }, pictures), element("pre", { text })] : [element("pre", { text })];
  return element("details", { className: "json-block" }, [summary, ...body]);
}

/* ---------- List ---------- */

async function loadList() {
  const list = $("execution-list");
  list.setAttribute("aria-busy", "true");
  $("refresh-button").disabled = true;
  try {
    const answer = await api.executions();
    // `items` as in the rest of the contract; `executions` as ListExecutions names it.
    const items = answer?.items ?? answer?.executions;
    state.executions = Array.isArray(items) ? items : [];
    state.listError = null;
  } catch (error) {
    state.listError = error;
  } finally {
    list.setAttribute("aria-busy", "false");
    $("refresh-button").disabled = false;
    renderList();
  }
  fetchMissingDetails();
}

function renderList() {
  $("list-error").hidden = state.listError === null;
  $("list-error").textContent = !state.listError
    ? ""
    : state.listError.code === "NotFound"
      ? t("console.localOnly")
      : `${t("console.loadError")} ${errorText(state.listError)}`;
  const shown = state.executions.filter((execution) => !state.filter || execution.status === state.filter);
  $("list-empty").hidden = state.executions.length > 0 || state.listError !== null;
  $("filter-empty").hidden = shown.length > 0 || state.executions.length === 0;
  $("execution-list").replaceChildren(
    ...shown.map((execution) => {
      const key = executionKey(execution);
      const link = element("a", {
        className: "execution-link",
        attributes: { href: `#${encodeURIComponent(key)}` },
      }, [
        statusBadge(execution.status),
        element("span", { className: "execution-id", text: key || "–" }),
        outcome(execution),
        element("span", { className: "execution-meta muted small" }, [
          element("time", { text: formatShortDateTime(execution.startDate), attributes: { datetime: execution.startDate ?? "" } }),
          element("span", { text: formatDuration(durationOf(execution)) }),
        ]),
      ]);
      if (key && key === state.selected) link.setAttribute("aria-current", "true");
      return element("li", { attributes: { "data-testid": "execution-item", "data-status": execution.status ?? "" } }, [link]);
    }),
  );
}

/** What a run came to: the digit read, or the error code (its description for screen readers and on hover). */
function outcome(execution) {
  if (execution.error) {
    const description = hasText(`errors.${execution.error}`) ? t(`errors.${execution.error}`) : "";
    return element("span", { className: "execution-outcome mono error-text", text: execution.error, attributes: description ? { title: description } : {} });
  }
  const digit = parseMaybeJson(details.get(executionKey(execution))?.output)?.digit;
  return element("span", { className: "execution-outcome", text: Number.isInteger(digit) ? t("history.read", { digit }) : "" });
}

/** Fetches the details of succeeded runs not seen yet, a few at a time, for their digits. */
async function fetchMissingDetails() {
  const missing = state.executions
    .filter((execution) => execution.status === "SUCCEEDED" && !details.has(executionKey(execution)))
    .map(executionKey);
  const workers = Array.from({ length: DETAIL_FETCHES }, async () => {
    for (let key = missing.shift(); key !== undefined; key = missing.shift()) {
      try {
        details.set(key, await api.execution(key));
      } catch {
        details.set(key, null);
      }
    }
  });
  await Promise.all(workers);
  renderList();
}

$("status-filter").addEventListener("change", (event) => {
  state.filter = event.target.value;
  renderList();
});

$("refresh-button").addEventListener("click", () => {
  loadList();
  if (state.selected) loadDetail(state.selected);
});

/* ---------- One execution ---------- */

function selectedFromHash() {
  const hash = window.location.hash.slice(1);
  try {
    return hash ? decodeURIComponent(hash) : null;
  } catch {
    return null;
  }
}

async function loadDetail(key) {
  state.selected = key;
  renderList();
  if (!key) {
    state.detail = null;
    state.detailError = null;
    renderDetail();
    return;
  }
  $("detail").setAttribute("aria-busy", "true");
  try {
    const detail = await api.execution(key);
    if (state.selected !== key) return;
    state.detail = detail;
    state.detailError = null;
  } catch (error) {
    if (state.selected !== key) return;
    state.detail = null;
    state.detailError = error;
  } finally {
    $("detail").setAttribute("aria-busy", "false");
  }
  renderDetail();
}

function fact(label, value, className) {
  if (value === undefined || value === null || value === "") return [];
  return [element("dt", { text: label }), element("dd", { text: value, className })];
}

function causeMessage(cause) {
  const parsed = parseMaybeJson(cause);
  if (typeof parsed?.errorMessage === "string") return parsed.errorMessage;
  return typeof parsed === "string" ? parsed : parsed == null ? "" : JSON.stringify(parsed);
}

/** The error code with what it means, in the page's language. */
function errorFact(code) {
  if (!code) return [];
  const value = element("dd", {}, [element("span", { className: "mono error-text", text: code })]);
  if (hasText(`errors.${code}`)) value.append(element("span", { className: "error-description", text: t(`errors.${code}`) }));
  return [element("dt", { text: t("console.error") }), value];
}

/** A Lambda's cause is its error JSON: show the message, and the stack trace on demand for a bug. */
function causeFact(cause, error) {
  const parsed = parseMaybeJson(cause);
  if (typeof parsed?.errorMessage !== "string") return fact(t("console.cause"), causeMessage(cause));
  const trace = Array.isArray(parsed.stackTrace) && !EXPECTED_ERRORS.has(error) ? parsed.stackTrace.join("") : "";
  const value = element("dd", {}, [element("span", { text: parsed.errorMessage })]);
  if (trace) {
    value.append(
      element("details", { className: "json-block trace" }, [
        element("summary", { text: t("console.stackTrace") }),
        element("pre", { text: trace }),
      ]),
    );
  }
  return [element("dt", { text: t("console.cause") }), value];
}

function renderDetail() {
  const detail = state.detail;
  $("detail-empty").hidden = Boolean(detail || state.detailError);
  $("detail-error").hidden = !state.detailError;
  $("detail-error").textContent =
    state.detailError?.code === "NotFound" ? t("console.notFound") : state.detailError ? errorText(state.detailError) : "";
  $("detail-body").hidden = !detail;
  if (!detail) return;

  $("detail-heading").textContent = executionKey(detail) || "–";
  statusBadge(detail.status, $("detail-status"));
  $("detail-facts").replaceChildren(
    ...fact(t("console.arn"), detail.executionArn, "mono"),
    ...fact(t("console.started"), formatDateTime(detail.startDate)),
    ...fact(t("console.stopped"), formatDateTime(detail.stopDate)),
    ...fact(t("console.duration"), formatDuration(durationOf(detail))),
    // Step Functions refuses state data over 256 KB: how close this run came.
    ...fact(t("console.maxState"), typeof detail.maxStateBytes === "number" ? formatBytes(detail.maxStateBytes) : null),
    ...errorFact(detail.error),
    ...causeFact(detail.cause, detail.error),
  );
  renderTimeline(detail);
  $("detail-io").replaceChildren(
    ...(detail.input !== undefined ? [jsonBlock(t("console.input"), detail.input)] : []),
    ...(detail.output !== undefined && detail.output !== null ? [jsonBlock(t("console.output"), detail.output)] : []),
  );
}

function renderTimeline(detail) {
  const states = Array.isArray(detail.states) ? detail.states : [];
  const timeline = $("timeline");
  if (!states.length) {
    timeline.replaceChildren(element("li", { className: "muted", text: t("console.noStates") }));
    return;
  }
  // Bars are placed on the execution's own time axis; states without times
  // follow one another.
  const origin = toTime(detail.startDate) ?? toTime(states[0]?.enteredAt) ?? 0;
  let cursor = 0;
  const spans = states.map((each) => {
    const entered = toTime(each?.enteredAt);
    const start = entered !== null ? Math.max(0, entered - origin) : cursor;
    const length = typeof each?.durationMs === "number" ? Math.max(0, each.durationMs) : 0;
    cursor = start + length;
    return { start, length };
  });
  const total = Math.max(durationOf(detail) ?? 0, ...spans.map(({ start, length }) => start + length), 1);
  timeline.replaceChildren(...states.map((each, index) => stateRow(each ?? {}, spans[index], total)));
}

function stateRow(item, span, total) {
  const failed = Boolean(item.error);
  const retries = Array.isArray(item.retries) ? item.retries : [];
  const bar = element("span", { className: "gantt-bar" });
  bar.style.setProperty("--start", String(span.start / total));
  bar.style.setProperty("--length", String(span.length / total));
  const summary = element("summary", { className: "state-summary" }, [
    element("span", { className: `state-dot ${failed ? "is-failed" : "is-ok"}`, attributes: { "aria-hidden": "true" } }),
    element("span", { className: "state-name" }, [
      element("strong", { text: item.name ?? "–" }),
      element("span", { className: "muted small", text: item.type ? ` ${item.type}` : "" }),
    ]),
    element("span", { className: "gantt", attributes: { "aria-hidden": "true" } }, [bar]),
    element("span", { className: "state-duration small", text: formatDuration(item.durationMs) }),
    ...(retries.length
      ? [element("span", { className: "retry-badge small", text: retries.length === 1 ? t("console.retryOne") : t("console.retryCount", { count: retries.length }) })]
      : []),
  ]);

  const body = element("div", { className: "state-body" }, [
    element("dl", { className: "facts" }, [
      ...fact(t("console.type"), item.type),
      ...fact(t("console.started"), formatDateTime(item.enteredAt)),
      ...fact(t("console.duration"), formatDuration(item.durationMs)),
      ...errorFact(item.error),
      ...causeFact(item.cause, item.error),
    ]),
    ...(retries.length ? [retryTable(retries)] : []),
    ...(item.input !== undefined ? [jsonBlock(t("console.input"), item.input, item.inputBytes)] : []),
    ...(item.output !== undefined && item.output !== null
      ? [jsonBlock(t("console.output"), item.output, item.outputBytes)]
      : []),
  ]);
  const details = element("details", { className: `state ${failed ? "is-failed" : ""}` }, [summary, body]);
  details.open = failed;
  return element("li", { attributes: { "data-testid": "execution-state" } }, [details]);
}

function retryTable(retries) {
  const rows = retries.map((retry, index) =>
    element("tr", {}, [
      element("td", { text: t("console.attempt", { attempt: retry?.attempt ?? index + 1 }) }),
      element("td", { className: "mono error-text", text: retry?.error ?? "" }),
      element("td", { text: causeMessage(retry?.cause) }),
      element("td", { className: "numeric", text: formatDuration(retry?.durationMs) }),
    ]),
  );
  const head = element("tr", {}, [
    element("th", { text: t("console.retries"), attributes: { scope: "col" } }),
    element("th", { text: t("console.error"), attributes: { scope: "col" } }),
    element("th", { text: t("console.cause"), attributes: { scope: "col" } }),
    element("th", { text: t("console.duration"), attributes: { scope: "col" } }),
  ]);
  return element("div", { className: "table-scroll" }, [
    element("table", { className: "retries" }, [element("thead", {}, [head]), element("tbody", {}, rows)]),
  ]);
}

/* ---------- Start ---------- */

window.addEventListener("hashchange", async () => {
  await loadDetail(selectedFromHash());
  // Moves keyboard and screen-reader users (and phones, by scrolling) to the detail.
  if (state.detail) $("detail-heading").focus();
});
translateDocument();
bindLanguageSwitch($("language-switch"));
onLanguageChange(() => {
  renderList();
  renderDetail();
});
loadList();
loadDetail(selectedFromHash());
