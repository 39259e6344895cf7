// The HTTP contract (same origin, under /api). Every failure becomes an ApiError
// whose code is one of the error table's, or NetworkError / Timeout: the page
// shows a translated message for each and never waits forever.

export const REQUEST_TIMEOUT_MS = 20000;

export const ERROR_CODES = [
  "BadRequest",
  "InvalidImage",
  "ImageTooLarge",
  "UnsupportedImageType",
  "NoDigitFound",
  "NotFound",
  "Throttled",
  "ModelUnavailable",
  "InternalError",
];

// For answers without the contract's JSON body (a proxy's HTML error page, say).
const CODE_BY_STATUS = {
  400: "BadRequest",
  404: "NotFound",
  413: "ImageTooLarge",
  415: "UnsupportedImageType",
  422: "NoDigitFound",
  429: "Throttled",
  502: "ModelUnavailable",
  503: "ModelUnavailable",
  504: "Timeout",
};

export class ApiError extends Error {
  constructor(code, message = "", status = 0) {
    super(message || code);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
  }
}

function errorCode(status, body) {
  const code = body?.error?.code;
  if (ERROR_CODES.includes(code)) return code;
  return CODE_BY_STATUS[status] ?? "InternalError";
}

async function request(path, { method = "GET", body, timeoutMs = REQUEST_TIMEOUT_MS, keepalive = false } = {}) {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const response = await fetch(`/api${path}`, {
      method,
      cache: "no-store",
      headers: body === undefined ? { Accept: "application/json" } : { Accept: "application/json", "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
      // Outlives the page: a correction still pending when the page closes is sent.
      keepalive,
    });
    // 204 No Content: a delete succeeded, and says nothing.
    if (response.status === 204) return null;
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      throw new ApiError(errorCode(response.status, data), data?.error?.message, response.status);
    }
    if (data === null) throw new ApiError("InternalError", "The answer is not JSON.", response.status);
    return data;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError(timedOut ? "Timeout" : "NetworkError", String(error?.message ?? error));
  } finally {
    clearTimeout(timer);
  }
}

const query = (params) =>
  new URLSearchParams(Object.entries(params).filter(([, value]) => value !== undefined && value !== null)).toString();

export const api = {
  health: () => request("/health", { timeoutMs: 5000 }),
  predict: (image, clientId) => request("/predictions", { method: "POST", body: { image, clientId } }),
  history: (clientId, { limit, cursor } = {}) => request(`/predictions?${query({ clientId, limit, cursor })}`),
  feedback: (id, clientId, label, { keepalive = false } = {}) =>
    request(`/predictions/${encodeURIComponent(id)}/feedback`, { method: "POST", body: { clientId, label }, keepalive }),
  remove: (id, clientId) => request(`/predictions/${encodeURIComponent(id)}?${query({ clientId })}`, { method: "DELETE" }),
  clear: (clientId) => request(`/predictions?${query({ clientId })}`, { method: "DELETE" }),
  executions: () => request("/executions"),
  execution: (id) => request(`/executions/${encodeURIComponent(id)}`),
};
