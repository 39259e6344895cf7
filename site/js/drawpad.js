// A drawing pad for one digit: mouse, touch and pen through Pointer Events.
// Strokes are kept as points in [0, 1] so the pad redraws crisply at any size
// and undo is just dropping the last stroke. One finger draws; two fingers
// scroll or zoom the page (CSS touch-action: pinch-zoom), and the browser then
// cancels the stroke they started, which is dropped.

// Stroke width as a fraction of the pad's side: a digit drawn over most of the
// pad then has strokes about as thick as MNIST's once scaled to 28x28.
const STROKE_WIDTH = 0.07;
const EXPORT_SIDE = 280;

export class DrawPad {
  constructor(canvas, { onChange = () => {}, onStrokeStart = () => {}, onStrokeEnd = () => {} } = {}) {
    this.canvas = canvas;
    this.onChange = onChange;
    this.onStrokeStart = onStrokeStart;
    this.onStrokeEnd = onStrokeEnd;
    this.strokes = [];
    this.activePointer = null;
    this.frameRequested = false;

    canvas.addEventListener("pointerdown", (event) => this.start(event));
    canvas.addEventListener("pointermove", (event) => this.extend(event));
    canvas.addEventListener("pointerup", (event) => this.finish(event));
    canvas.addEventListener("pointercancel", (event) => this.cancel(event));
    canvas.addEventListener("lostpointercapture", (event) => this.finish(event));
    new ResizeObserver(() => this.resize()).observe(canvas);
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => this.requestDraw());
    this.resize();
  }

  get isEmpty() {
    return this.strokes.length === 0;
  }

  undo() {
    if (this.activePointer !== null) return;
    this.strokes.pop();
    this.changed();
  }

  clear() {
    this.activePointer = null;
    this.strokes = [];
    this.changed();
  }

  /** The drawing as a PNG data URL: black ink on a transparent background. */
  toDataURL() {
    const canvas = document.createElement("canvas");
    canvas.width = EXPORT_SIDE;
    canvas.height = EXPORT_SIDE;
    paint(canvas.getContext("2d"), this.strokes, EXPORT_SIDE, "#000");
    return canvas.toDataURL("image/png");
  }

  point(event) {
    const rect = this.canvas.getBoundingClientRect();
    return [clamp((event.clientX - rect.left) / rect.width), clamp((event.clientY - rect.top) / rect.height)];
  }

  start(event) {
    if (this.activePointer !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    this.activePointer = event.pointerId;
    this.canvas.setPointerCapture(event.pointerId);
    this.strokes.push([this.point(event)]);
    this.requestDraw();
    this.onStrokeStart();
  }

  extend(event) {
    if (event.pointerId !== this.activePointer) return;
    event.preventDefault();
    const stroke = this.strokes[this.strokes.length - 1];
    const events = event.getCoalescedEvents?.() ?? [];
    for (const each of events.length ? events : [event]) stroke.push(this.point(each));
    this.requestDraw();
  }

  finish(event) {
    if (event.pointerId !== this.activePointer) return;
    this.activePointer = null;
    this.changed();
    this.onStrokeEnd();
  }

  /** The browser took the pointer over (a scroll or zoom): the stroke was not meant. */
  cancel(event) {
    if (event.pointerId !== this.activePointer) return;
    this.activePointer = null;
    this.strokes.pop();
    this.requestDraw();
    this.onStrokeEnd();
  }

  changed() {
    this.requestDraw();
    this.onChange();
  }

  resize() {
    const ratio = window.devicePixelRatio || 1;
    const side = Math.max(1, Math.round(this.canvas.clientWidth * ratio));
    if (this.canvas.width !== side) {
      this.canvas.width = side;
      this.canvas.height = side;
    }
    this.draw();
  }

  requestDraw() {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      this.draw();
    });
  }

  draw() {
    // The ink colour follows the theme (CSS `color` of the canvas).
    paint(this.canvas.getContext("2d"), this.strokes, this.canvas.width, getComputedStyle(this.canvas).color);
  }
}

function clamp(value) {
  return Math.min(1, Math.max(0, value));
}

function paint(context, strokes, side, colour) {
  context.clearRect(0, 0, side, side);
  context.strokeStyle = colour;
  context.fillStyle = colour;
  context.lineWidth = STROKE_WIDTH * side;
  context.lineCap = "round";
  context.lineJoin = "round";
  for (const stroke of strokes) {
    const [x0, y0] = stroke[0];
    if (stroke.length === 1) {
      context.beginPath();
      context.arc(x0 * side, y0 * side, context.lineWidth / 2, 0, Math.PI * 2);
      context.fill();
      continue;
    }
    context.beginPath();
    context.moveTo(x0 * side, y0 * side);
    for (const [x, y] of stroke.slice(1)) context.lineTo(x * side, y * side);
    context.stroke();
  }
}
