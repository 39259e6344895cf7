// The executions console of the local stack: recent workflow executions, and
// one execution as a timeline of its states, like the Step Functions console.
// Everything is rendered defensively: any field may be missing.
import { ApiError, api } from "./api.js";
import {
  bindLanguageSwitch,
  formatBytes,
  formatDateTime,
  formatDuration,
  formatShortDateTime,
  hasText,
  onLanguageChange,
  t,
  translateDocument,
} from "./i18n.js";

// Long strings (base64 images, thumbnails) are shortened in the JSON views.
const LONG_STRING = 160;
const SHORTENED_KEEP = 64;

const $ = (id) => document.getElementById(id);

const state = {
  executions: [],
  listError: null,
  selected: null,
  detail: null,
  detailError: null,
};

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

/** Pretty JSON with long strings shortened; says whether anything was. */
function prettyJson(value) {
  let shortened = false;
  const text = JSON.stringify(
    parseMaybeJson(value),
    (key, each) => {
      if (typeof each === "string" && each.length > LONG_STRING) {
        shortened = true;
        return `${each.slice(0, SHORTENED_KEEP)}… (${each.length})`;
      }
      return each;
    },
    2,
  );
  return { text: text ?? "null", shortened };
}

function jsonBlock(title, value, bytes) {
  const { text, shortened } = prettyJson(value);
  const summary = element("summary", { text: typeof bytes === "number" ? `${title} · ${formatBytes(bytes)}` : title });
  if (shortened) summary.append(element("span", { className: "muted small", text: ` · ${t("console.shortened")}` }));
  return element("details", { className: "json-block" }, [summary, element("pre", { text })]);
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
}

function renderList() {
  $("list-error").hidden = state.listError === null;
  $("list-error").textContent = !state.listError
    ? ""
    : state.listError.code === "NotFound"
      ? t("console.localOnly")
      : `${t("console.loadError")} ${errorText(state.listError)}`;
  $("list-empty").hidden = state.executions.length > 0 || state.listError !== null;
  $("execution-list").replaceChildren(
    ...state.executions.map((execution) => {
      const key = executionKey(execution);
      const link = element("a", {
        className: "execution-link",
        attributes: { href: `#${encodeURIComponent(key)}` },
      }, [
        statusBadge(execution.status),
        element("span", { className: "execution-id", text: key || "–" }),
        element("span", { className: "execution-meta muted small" }, [
          element("time", { text: formatShortDateTime(execution.startDate), attributes: { datetime: execution.startDate ?? "" } }),
          element("span", { text: formatDuration(durationOf(execution)) }),
        ]),
      ]);
      if (key && key === state.selected) link.setAttribute("aria-current", "true");
      return element("li", { attributes: { "data-testid": "execution-item" } }, [link]);
    }),
  );
}

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

/** A Lambda's cause is its error JSON: show the message, the stack trace on demand. */
function causeFact(cause) {
  const parsed = parseMaybeJson(cause);
  if (typeof parsed?.errorMessage !== "string") return fact(t("console.cause"), causeMessage(cause));
  const trace = Array.isArray(parsed.stackTrace) ? parsed.stackTrace.join("") : "";
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
    ...fact(t("console.error"), detail.error, "mono error-text"),
    ...causeFact(detail.cause),
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
      ...fact(t("console.error"), item.error, "mono error-text"),
      ...causeFact(item.cause),
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
