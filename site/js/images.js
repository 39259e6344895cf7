// Prepares a chosen, dropped, pasted or photographed file for upload. The API
// takes at most 180 KB of image (Step Functions' 256 KB state limit), so larger
// photos are scaled down and re-encoded here: a person never meets a size
// error for an ordinary phone photo.
import { ApiError } from "./api.js";

export const MAX_UPLOAD_BYTES = 180 * 1024;
// Far more detail than the model needs (it reads 28x28): the server looks for
// the ink at 256 px, so even the last step loses nothing that matters.
const MAX_SIDES = [1024, 768, 512, 384, 256];
const JPEG_QUALITIES = [0.9, 0.8, 0.7];

// The formats the server reads, recognised by their first bytes as it does.
const SIGNATURES = [
  { format: "png", offset: 0, bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { format: "jpeg", offset: 0, bytes: [0xff, 0xd8, 0xff] },
  { format: "gif", offset: 0, bytes: [0x47, 0x49, 0x46, 0x38] },
  { format: "bmp", offset: 0, bytes: [0x42, 0x4d] },
  { format: "webp", offset: 8, bytes: [0x57, 0x45, 0x42, 0x50] },
];
const MAY_BE_TRANSPARENT = new Set(["png", "gif", "webp"]);

async function sniffFormat(file) {
  const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
  const match = SIGNATURES.find(({ offset, bytes }) => bytes.every((byte, index) => head[offset + index] === byte));
  return match?.format ?? null;
}

/**
 * What is wrong with a file before anything is sent (the server would say the
 * same after a round trip): null when it may be an image, or an error code.
 */
export async function fileProblem(file) {
  if (file.size === 0) return "EmptyFile";
  return (await sniffFormat(file)) ? null : "UnsupportedImageType";
}

async function decode(file) {
  try {
    return await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    return null;
  }
}

function readAsDataURL(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

function toBlob(canvas, type, quality) {
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
}

async function shrink(bitmap, transparent) {
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d");
  for (const side of MAX_SIDES) {
    const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    context.imageSmoothingQuality = "high";
    if (transparent) {
      context.clearRect(0, 0, canvas.width, canvas.height);
      context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const png = await toBlob(canvas, "image/png");
      if (png && png.size <= MAX_UPLOAD_BYTES) return png;
    }
    // JPEG has no transparency: paper-white under the picture.
    context.fillStyle = "#fff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    for (const quality of JPEG_QUALITIES) {
      const jpeg = await toBlob(canvas, "image/jpeg", quality);
      if (jpeg && jpeg.size <= MAX_UPLOAD_BYTES) return jpeg;
    }
  }
  throw new ApiError("ImageTooLarge");
}

/**
 * The file as a data URL ready for `POST /api/predictions`, and its sizes.
 * Files the browser cannot read are sent as they are when small enough, so
 * the server names the problem (unsupported type or corrupt image).
 */
export async function prepareImage(file) {
  if (file.size <= MAX_UPLOAD_BYTES) {
    // Small enough as it is: sent without decoding (the server reads it anyway).
    return { dataUrl: await readAsDataURL(file), originalBytes: file.size, sentBytes: file.size, resized: false };
  }
  const format = await sniffFormat(file);
  const bitmap = format ? await decode(file) : null;
  if (!bitmap) throw new ApiError(format ? "InvalidImage" : "UnsupportedImageType");
  try {
    const blob = await shrink(bitmap, MAY_BE_TRANSPARENT.has(format));
    return { dataUrl: await readAsDataURL(blob), originalBytes: file.size, sentBytes: blob.size, resized: true };
  } finally {
    bitmap.close();
  }
}
