// localStorage can be disabled or full (private browsing, strict settings):
// the page keeps working, the choice then lasts only until the page closes.
const memory = new Map();

export function readStored(key) {
  try {
    return window.localStorage.getItem(key) ?? memory.get(key) ?? null;
  } catch {
    return memory.get(key) ?? null;
  }
}

export function writeStored(key, value) {
  memory.set(key, value);
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // Kept in memory only.
  }
}
