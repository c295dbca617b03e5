/**
 * Viewer settings remembered in the browser (localStorage): the delay that
 * holds updates back to match a TV feed, hidden columns (by heading) and the
 * focused car of each service. A broken or missing store gives defaults.
 */
const KEY = "livetiming.settings";
export const MAX_DELAY = 600;

function defaults() {
  return { delay: 0, hidden: [], focus: {} };
}

export function loadSettings(storage = globalThis.localStorage) {
  try {
    const raw = JSON.parse(storage.getItem(KEY) || "{}");
    const settings = defaults();
    if (Number.isFinite(raw.delay)) settings.delay = clampDelay(raw.delay);
    if (Array.isArray(raw.hidden)) settings.hidden = raw.hidden.filter((h) => typeof h === "string");
    if (raw.focus && typeof raw.focus === "object") settings.focus = raw.focus;
    return settings;
  } catch (e) {
    return defaults();
  }
}

const MAX_FOCUS = 50;
/** Focused cars kept (one per service uuid, the latest ones), so the store never grows for ever. */

export function saveSettings(settings, storage = globalThis.localStorage) {
  const uuids = Object.keys(settings.focus || {});
  if (uuids.length > MAX_FOCUS) {
    for (const uuid of uuids.slice(0, uuids.length - MAX_FOCUS)) delete settings.focus[uuid];
  }
  try {
    storage.setItem(KEY, JSON.stringify(settings));
  } catch (e) {
    /* private mode or full: settings last for this page only */
  }
}

export function clampDelay(value) {
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0) return 0;
  return Math.min(MAX_DELAY, Math.round(number));
}
