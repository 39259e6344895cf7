// Texts of both pages in English and Vietnamese, and the language switch.
// Static texts carry data-i18n="key" (and data-i18n-aria-label, -title, -alt);
// texts built by scripts call t() and re-render on onLanguageChange().
import { readStored, writeStored } from "./storage.js";

const STORAGE_KEY = "digits.language";

const MESSAGES = {
  en: {
    "app.title": "Digit Recognizer",
    "console.pageTitle": "Workflow executions · Digit Recognizer",
    "language.other": "Tiếng Việt",
    "language.otherLabel": "Chuyển sang tiếng Việt",
    "nav.skip": "Skip to content",
    "nav.label": "Site",
    "nav.console": "Executions",
    "nav.back": "Recognizer",

    "intro.heading": "Recognise a handwritten digit",
    "intro.lead": "Draw a digit, or give a photo or an image of one. The answer comes as you draw, with how sure the model is.",

    "input.heading": "Your digit",
    "input.source": "How to give the digit",
    "input.tabDraw": "Draw",
    "input.tabImage": "Image",
    "draw.canvasLabel": "Drawing area: draw one digit with a mouse, a finger or a pen",
    "draw.hint": "Draw one digit here",
    "draw.undo": "Undo",
    "draw.clear": "Clear",
    "image.dropHint": "Drop an image here, or paste one",
    "image.formats": "PNG, JPEG, WebP, GIF or BMP. Large photos are made smaller before sending.",
    "image.choose": "Choose image",
    "image.camera": "Take photo",
    "image.previewAlt": "The chosen image",
    "image.resized": "{name}: reduced from {from} to {to} before sending",
    "image.chosen": "{name} ({size})",

    "predict.idle": "Recognise",
    "busy.preparing": "Preparing the image…",
    "busy.recognising": "Recognising…",

    "result.heading": "Result",
    "result.empty": "The digit the model reads appears here.",
    "result.emptyDraw": "Draw a digit: the answer comes when you lift the pen.",
    "result.emptyImage": "Choose, drop or paste an image: it is recognised at once.",
    "result.waiting": "The answer comes when you pause.",
    "result.stale": "The input changed since this answer.",
    "result.updating": "Recognising the change…",
    "result.fromHistory": "From your history · {time}",
    "result.digit": "Digit",
    "result.confidence": "Confidence",
    "result.notDigit": "Not sure this is a digit at all. Draw one digit, large and clear.",
    "result.unsure": "Not sure: it could be {digit} or {other}.",
    "result.modelSaw": "What the model saw (28×28)",
    "result.probabilities": "Probability of each digit",
    "result.bar": "{digit}: {percent}",
    "result.announce": "Result: {digit}, confidence {confidence}.",
    "result.meta": "Model {model} · {ms} on the server",

    "history.heading": "History",
    "history.note": "Predictions made in this browser, newest first. Select one to see it again.",
    "history.empty": "No predictions yet.",
    "history.more": "Show more",
    "history.loadError": "The history could not be loaded.",
    "history.retry": "Try again",
    "history.read": "Read as {digit}",
    "history.unsure": "unsure",
    "history.open": ", show it in the result",
    "history.corrected": "Corrected to {label}",
    "history.confirmed": "Confirmed right",
    "history.run": "Run details",
    "history.delete": "Delete",
    "history.deleteLabel": "Delete the prediction {digit} of {time}",
    "history.deleteQuestion": "Delete this prediction?",
    "history.deleting": "Deleting…",
    "history.deleted": "Deleted.",
    "history.keep": "Keep it",
    "history.clear": "Clear my history",
    "history.clearHeading": "Clear your history?",
    "history.clearText": "Every prediction made in this browser is deleted from the server, with its image. This cannot be undone.",
    "history.clearConfirm": "Delete everything",
    "history.clearError": "The history could not be cleared.",
    "history.cleared": "Your history was cleared.",

    "feedback.right": "Right",
    "feedback.itWas": "It was…",
    "feedback.pickerLabel": "Which digit was it?",
    "feedback.pendingRight": "Marked as right.",
    "feedback.pendingCorrected": "Corrected to {label}.",
    "feedback.undo": "Undo",
    "feedback.saving": "Saving…",
    "feedback.saved": "Saved.",
    "feedback.notSaved": "Not saved.",

    "samples.heading": "Try an example",
    "samples.note": "Each one goes through the same path as your own image.",
    "samples.clean": "A clean 7",
    "samples.photo": "A photo of a 3",
    "samples.hard": "A hard one",
    "samples.notDigit": "Not a digit",

    "api.heading": "Use it from your own code",
    "api.lead": "Send an image as base64 or as a data: URL; the answer is the prediction this page shows, and it joins the history of that clientId.",
    "api.document": "The whole contract as an OpenAPI document",

    "footer.note": "Images are reduced to 28×28 pixels; the history is tied to this browser only, and you can delete it.",

    "errors.BadRequest": "The request could not be understood. Please reload the page and try again.",
    "errors.InvalidImage": "The image is corrupt or incomplete and cannot be read.",
    "errors.ImageTooLarge": "The image is too large. Please use a smaller one.",
    "errors.UnsupportedImageType": "This file is not a supported image. Use PNG, JPEG, WebP, GIF or BMP.",
    "errors.NoDigitFound": "No digit was found: the image looks blank, or the mark is too small or faint. Draw the digit bigger.",
    "errors.EmptyFile": "This file is empty: it has no bytes at all.",
    "errors.NotFound": "That item could not be found.",
    "errors.Throttled": "Too many requests. Please wait a moment and try again.",
    "errors.ModelUnavailable": "The recognition model is unavailable right now. Please try again shortly.",
    "errors.InternalError": "Something went wrong on our side. Please try again.",
    "errors.NetworkError": "Cannot reach the server. Check your connection and try again.",
    "errors.Timeout": "The server took too long to answer. Please try again.",
    "errors.code": "Error code: {code}",

    "console.heading": "Workflow executions",
    "console.lead": "Each recognition runs the workflow Validate → Preprocess → InvokeModel → Persist. Follow every run state by state.",
    "console.refresh": "Refresh",
    "console.listHeading": "Recent executions",
    "console.empty": "No executions yet. Recognise a digit on the main page.",
    "console.loadError": "The executions could not be loaded.",
    "console.localOnly": "This console belongs to the local stack. On AWS, executions are inspected in CloudWatch Logs.",
    "console.notFound": "This execution could not be found.",
    "console.pick": "Select an execution to see its states.",
    "console.started": "Started",
    "console.stopped": "Stopped",
    "console.duration": "Duration",
    "console.maxState": "Largest state data",
    "console.arn": "Execution ARN",
    "console.states": "States",
    "console.noStates": "No state was recorded.",
    "console.type": "Type",
    "console.input": "Input",
    "console.output": "Output",
    "console.error": "Error",
    "console.cause": "Cause",
    "console.retries": "Retries",
    "console.stackTrace": "Stack trace",
    "console.retryOne": "1 retry",
    "console.retryCount": "{count} retries",
    "console.attempt": "Attempt {attempt}",
    "console.shortened": "long values shortened",
    "console.shortenedValue": "… ({count} characters, shortened)",
    "console.filterLabel": "Show",
    "console.filterAll": "All",
    "console.filterEmpty": "No recent execution has this status.",
    "console.picture": "[shown above as a picture]",
    "console.image": "Uploaded image",
    "console.thumbnail": "What the model saw (28×28)",
    "console.tensor": "Tensor sent to the model (28×28)",
    "status.SUCCEEDED": "Succeeded",
    "status.FAILED": "Failed",
    "status.TIMED_OUT": "Timed out",
    "status.RUNNING": "Running",
    "status.ABORTED": "Aborted",
  },
  vi: {
    "app.title": "Nhận dạng chữ số",
    "console.pageTitle": "Các lượt thực thi · Nhận dạng chữ số",
    "language.other": "English",
    "language.otherLabel": "Switch to English",
    "nav.skip": "Chuyển đến nội dung chính",
    "nav.label": "Trang",
    "nav.console": "Lượt thực thi",
    "nav.back": "Trang nhận dạng",

    "intro.heading": "Nhận dạng chữ số viết tay",
    "intro.lead": "Vẽ một chữ số, hoặc gửi ảnh chụp hay hình ảnh của nó. Kết quả hiện ra ngay khi bạn vẽ, kèm theo mức độ chắc chắn của mô hình.",

    "input.heading": "Chữ số của bạn",
    "input.source": "Cách đưa chữ số vào",
    "input.tabDraw": "Vẽ",
    "input.tabImage": "Hình ảnh",
    "draw.canvasLabel": "Vùng vẽ: vẽ một chữ số bằng chuột, ngón tay hoặc bút",
    "draw.hint": "Vẽ một chữ số vào đây",
    "draw.undo": "Hoàn tác",
    "draw.clear": "Xóa hết",
    "image.dropHint": "Thả ảnh vào đây hoặc dán ảnh",
    "image.formats": "PNG, JPEG, WebP, GIF hoặc BMP. Ảnh lớn sẽ được thu nhỏ trước khi gửi.",
    "image.choose": "Chọn ảnh",
    "image.camera": "Chụp ảnh",
    "image.previewAlt": "Ảnh đã chọn",
    "image.resized": "{name}: đã thu nhỏ từ {from} xuống {to} trước khi gửi",
    "image.chosen": "{name} ({size})",

    "predict.idle": "Nhận dạng",
    "busy.preparing": "Đang chuẩn bị ảnh…",
    "busy.recognising": "Đang nhận dạng…",

    "result.heading": "Kết quả",
    "result.empty": "Chữ số mà mô hình đọc được sẽ hiện ở đây.",
    "result.emptyDraw": "Hãy vẽ một chữ số: kết quả hiện ra khi bạn nhấc bút.",
    "result.emptyImage": "Chọn, thả hoặc dán một ảnh: ảnh được nhận dạng ngay.",
    "result.waiting": "Kết quả sẽ hiện ra khi bạn dừng vẽ.",
    "result.stale": "Dữ liệu vào đã thay đổi sau kết quả này.",
    "result.updating": "Đang nhận dạng lại…",
    "result.fromHistory": "Từ lịch sử · {time}",
    "result.digit": "Chữ số",
    "result.confidence": "Độ tin cậy",
    "result.notDigit": "Không chắc đây là một chữ số. Hãy vẽ một chữ số, to và rõ.",
    "result.unsure": "Chưa chắc chắn: có thể là {digit} hoặc {other}.",
    "result.modelSaw": "Hình mô hình nhìn thấy (28×28)",
    "result.probabilities": "Xác suất của từng chữ số",
    "result.bar": "{digit}: {percent}",
    "result.announce": "Kết quả: {digit}, độ tin cậy {confidence}.",
    "result.meta": "Mô hình {model} · {ms} trên máy chủ",

    "history.heading": "Lịch sử",
    "history.note": "Các lần nhận dạng trên trình duyệt này, mới nhất trước. Chọn một mục để xem lại.",
    "history.empty": "Chưa có lần nhận dạng nào.",
    "history.more": "Xem thêm",
    "history.loadError": "Không tải được lịch sử.",
    "history.retry": "Thử lại",
    "history.read": "Đọc là {digit}",
    "history.unsure": "chưa chắc",
    "history.open": ", xem lại trong phần kết quả",
    "history.corrected": "Đã sửa thành {label}",
    "history.confirmed": "Đã xác nhận là đúng",
    "history.run": "Chi tiết lượt chạy",
    "history.delete": "Xóa",
    "history.deleteLabel": "Xóa kết quả {digit} lúc {time}",
    "history.deleteQuestion": "Xóa mục này?",
    "history.deleting": "Đang xóa…",
    "history.deleted": "Đã xóa.",
    "history.keep": "Giữ lại",
    "history.clear": "Xóa lịch sử của tôi",
    "history.clearHeading": "Xóa lịch sử của bạn?",
    "history.clearText": "Mọi lần nhận dạng trên trình duyệt này sẽ bị xóa khỏi máy chủ, cùng với hình ảnh. Không thể hoàn tác.",
    "history.clearConfirm": "Xóa tất cả",
    "history.clearError": "Không xóa được lịch sử.",
    "history.cleared": "Đã xóa lịch sử của bạn.",

    "feedback.right": "Đúng",
    "feedback.itWas": "Thực ra là…",
    "feedback.pickerLabel": "Đó là chữ số nào?",
    "feedback.pendingRight": "Đã đánh dấu là đúng.",
    "feedback.pendingCorrected": "Đã sửa thành {label}.",
    "feedback.undo": "Hoàn tác",
    "feedback.saving": "Đang lưu…",
    "feedback.saved": "Đã lưu.",
    "feedback.notSaved": "Chưa lưu được.",

    "samples.heading": "Thử một ví dụ",
    "samples.note": "Mỗi ví dụ đi qua đúng con đường như ảnh của bạn.",
    "samples.clean": "Số 7 rõ nét",
    "samples.photo": "Ảnh chụp số 3",
    "samples.hard": "Một ví dụ khó",
    "samples.notDigit": "Không phải chữ số",

    "api.heading": "Dùng từ mã của bạn",
    "api.lead": "Gửi ảnh dưới dạng base64 hoặc data: URL; kết quả giống hệt trang này hiển thị và được thêm vào lịch sử của clientId đó.",
    "api.document": "Toàn bộ giao diện API dưới dạng tài liệu OpenAPI",

    "footer.note": "Ảnh được thu nhỏ còn 28×28 điểm ảnh; lịch sử chỉ gắn với trình duyệt này và bạn có thể xóa nó.",

    "errors.BadRequest": "Yêu cầu không hợp lệ. Hãy tải lại trang và thử lại.",
    "errors.InvalidImage": "Ảnh bị hỏng hoặc không đầy đủ nên không đọc được.",
    "errors.ImageTooLarge": "Ảnh quá lớn. Hãy dùng ảnh nhỏ hơn.",
    "errors.UnsupportedImageType": "Tệp này không phải là ảnh được hỗ trợ. Hãy dùng PNG, JPEG, WebP, GIF hoặc BMP.",
    "errors.NoDigitFound": "Không tìm thấy chữ số nào: ảnh có vẻ trống, hoặc nét vẽ quá nhỏ hay quá mờ. Hãy vẽ chữ số to hơn.",
    "errors.EmptyFile": "Tệp này trống: không có byte nào.",
    "errors.NotFound": "Không tìm thấy mục này.",
    "errors.Throttled": "Có quá nhiều yêu cầu. Hãy đợi một chút rồi thử lại.",
    "errors.ModelUnavailable": "Mô hình nhận dạng hiện không sẵn sàng. Hãy thử lại sau ít phút.",
    "errors.InternalError": "Đã có lỗi từ phía máy chủ. Hãy thử lại.",
    "errors.NetworkError": "Không kết nối được với máy chủ. Hãy kiểm tra kết nối mạng rồi thử lại.",
    "errors.Timeout": "Máy chủ phản hồi quá lâu. Hãy thử lại.",
    "errors.code": "Mã lỗi: {code}",

    "console.heading": "Các lượt thực thi quy trình",
    "console.lead": "Mỗi lần nhận dạng chạy quy trình Validate → Preprocess → InvokeModel → Persist. Theo dõi từng lượt chạy qua từng bước.",
    "console.refresh": "Làm mới",
    "console.listHeading": "Lượt thực thi gần đây",
    "console.empty": "Chưa có lượt thực thi nào. Hãy nhận dạng một chữ số ở trang chính.",
    "console.loadError": "Không tải được danh sách lượt thực thi.",
    "console.localOnly": "Trang này chỉ có trên máy cục bộ. Trên AWS, hãy xem các lượt thực thi trong CloudWatch Logs.",
    "console.notFound": "Không tìm thấy lượt thực thi này.",
    "console.pick": "Chọn một lượt thực thi để xem các bước.",
    "console.started": "Bắt đầu",
    "console.stopped": "Kết thúc",
    "console.duration": "Thời lượng",
    "console.maxState": "Dữ liệu trạng thái lớn nhất",
    "console.arn": "ARN của lượt thực thi",
    "console.states": "Các bước",
    "console.noStates": "Không có bước nào được ghi lại.",
    "console.type": "Loại",
    "console.input": "Đầu vào",
    "console.output": "Đầu ra",
    "console.error": "Lỗi",
    "console.cause": "Nguyên nhân",
    "console.retries": "Thử lại",
    "console.stackTrace": "Vết ngăn xếp (stack trace)",
    "console.retryOne": "1 lần thử lại",
    "console.retryCount": "{count} lần thử lại",
    "console.attempt": "Lần thử {attempt}",
    "console.shortened": "giá trị dài đã được rút gọn",
    "console.shortenedValue": "… ({count} ký tự, đã rút gọn)",
    "console.filterLabel": "Hiển thị",
    "console.filterAll": "Tất cả",
    "console.filterEmpty": "Không có lượt thực thi gần đây nào ở trạng thái này.",
    "console.picture": "[hiển thị dưới dạng ảnh ở trên]",
    "console.image": "Ảnh đã gửi",
    "console.thumbnail": "Hình mô hình nhìn thấy (28×28)",
    "console.tensor": "Tensor gửi cho mô hình (28×28)",
    "status.SUCCEEDED": "Thành công",
    "status.FAILED": "Thất bại",
    "status.TIMED_OUT": "Hết thời gian",
    "status.RUNNING": "Đang chạy",
    "status.ABORTED": "Đã hủy",
  },
};

export const LANGUAGES = Object.keys(MESSAGES);
const listeners = new Set();
let current = initialLanguage();

function initialLanguage() {
  const stored = readStored(STORAGE_KEY);
  if (LANGUAGES.includes(stored)) return stored;
  const preferred = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const tag of preferred) {
    const base = String(tag || "").toLowerCase().split("-")[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return "en";
}

export function language() {
  return current;
}

/** The text of `key` in the current language, with {name} placeholders filled. */
export function t(key, params = {}) {
  const text = MESSAGES[current][key] ?? MESSAGES.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match));
}

export function hasText(key) {
  return key in MESSAGES.en;
}

export function onLanguageChange(listener) {
  listeners.add(listener);
}

export function setLanguage(next) {
  if (!LANGUAGES.includes(next) || next === current) return;
  current = next;
  writeStored(STORAGE_KEY, next);
  translateDocument();
  listeners.forEach((listener) => listener(next));
}

const ATTRIBUTES = ["aria-label", "title", "alt"];

export function translateDocument(root = document) {
  document.documentElement.lang = current;
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const attribute of ATTRIBUTES) {
    for (const element of root.querySelectorAll(`[data-i18n-${attribute}]`)) {
      element.setAttribute(attribute, t(element.getAttribute(`data-i18n-${attribute}`)));
    }
  }
}

/** Wires the button that switches to the other language (two languages: a toggle). */
export function bindLanguageSwitch(button) {
  const render = () => {
    const other = LANGUAGES.find((code) => code !== current);
    button.textContent = t("language.other");
    button.lang = other;
    button.setAttribute("aria-label", t("language.otherLabel"));
  };
  button.addEventListener("click", () => setLanguage(LANGUAGES.find((code) => code !== current)));
  onLanguageChange(render);
  render();
}

/**
 * Whole percents, the one rounding of both pages. Never "100%" or "0%" for what
 * is only nearly so: ">99%" and "<1%" instead.
 */
export function formatPercent(value) {
  const percent = (fraction) => new Intl.NumberFormat(current, { style: "percent", maximumFractionDigits: 0 }).format(fraction);
  if (value >= 0.995 && value < 1) return `>${percent(0.99)}`;
  if (value > 0 && value < 0.005) return `<${percent(0.01)}`;
  return percent(value);
}

export function formatDateTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return new Intl.DateTimeFormat(current, { dateStyle: "medium", timeStyle: "medium" }).format(date);
}

export function formatShortDateTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return new Intl.DateTimeFormat(current, { dateStyle: "short", timeStyle: "medium" }).format(date);
}

export function formatDuration(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "–";
  const number = (value, digits) => new Intl.NumberFormat(current, { maximumFractionDigits: digits }).format(value);
  if (ms < 10) return `${number(ms, 2)} ms`;
  if (ms < 1000) return `${number(ms, 0)} ms`;
  return `${number(ms / 1000, 2)} s`;
}

export function formatBytes(bytes) {
  const number = (value) => new Intl.NumberFormat(current, { maximumFractionDigits: 1 }).format(value);
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${number(bytes / 1024)} KB`;
  return `${number(bytes / 1024 / 1024)} MB`;
}
