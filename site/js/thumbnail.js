// "What the model saw": the prediction's thumbnail is base64 of 28x28 uint8,
// row-major, ink high. Drawn as the model reads it (light ink on black); CSS
// scales the canvas up with `image-rendering: pixelated`.
const SIDE = 28;

export function drawThumbnail(canvas, base64) {
  canvas.width = SIDE;
  canvas.height = SIDE;
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, SIDE, SIDE);
  let bytes;
  try {
    bytes = Uint8Array.from(atob(base64 ?? ""), (char) => char.charCodeAt(0));
  } catch {
    return false;
  }
  if (bytes.length !== SIDE * SIDE) return false;
  const image = context.createImageData(SIDE, SIDE);
  bytes.forEach((value, index) => {
    image.data.set([value, value, value, 255], index * 4);
  });
  context.putImageData(image, 0, 0);
  return true;
}
