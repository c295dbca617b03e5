/**
 * How values look on screen: lap times, gaps, clocks, message times, and the
 * text of entity-escaped attribution. Pure functions, shared by the pages.
 */

/** `m:ss.sss` for lap and sector times (seconds); strings pass through. */
export function formatTime(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return value === null || value === undefined ? "" : String(value);
  if (value <= 0) return "";
  const minutes = Math.floor(value / 60);
  const seconds = value - minutes * 60;
  const text = seconds.toFixed(3);
  if (minutes === 0) return text;
  return `${minutes}:${seconds < 10 ? "0" : ""}${text}`;
}

/** Gaps and intervals: seconds to 3 places (m:ss.sss past a minute); "1 lap" passes through. */
export function formatDelta(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return value === null || value === undefined ? "" : String(value);
  if (value === 0) return "";
  if (Math.abs(value) >= 60) return formatTime(value);
  return value.toFixed(3);
}

export function formatNumeric(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number" && !Number.isInteger(value)) return String(Math.round(value * 1000) / 1000);
  return String(value);
}

/** `h:mm:ss` for the session clocks. */
export function formatClock(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) return "";
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

/** Local `HH:MM:SS` of a Unix time in seconds (message times). */
export function formatTimeOfDay(unixSeconds) {
  if (typeof unixSeconds !== "number") return "";
  const date = new Date(unixSeconds * 1000);
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

/** "3 s", "2 min", "1 h": the age of the last update. */
export function formatAge(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0", copy: "\u00a9", reg: "\u00ae" };

/**
 * Plugins write attribution such as "&copy; TimeService" for HTML pages;
 * the app only ever sets text, so the few entities are decoded here.
 */
export function decodeEntities(text) {
  return String(text).replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** Colours of the usual endurance classes; any other class gets a hue from its name. */
const CLASS_COLOURS = {
  HYPERCAR: "#d61f26", LMH: "#d61f26", LMDH: "#d61f26", GTP: "#d61f26", LMP1: "#d61f26", DPI: "#d61f26",
  LMP2: "#1f6fd6", LMP3: "#8e44ad", GTE: "#1e9e4a", "GTE-PRO": "#1e9e4a", "GTE-AM": "#e67e22", GTLM: "#1e9e4a",
  GT3: "#e67e22", GTD: "#e67e22", LMGT3: "#e67e22", "GTD-PRO": "#c0392b", GT4: "#7f8c8d", TCR: "#16a085",
};

/** A stable colour per class name, as CSS. */
export function classColour(name) {
  const known = CLASS_COLOURS[String(name).toUpperCase()];
  if (known) return known;
  let hash = 0;
  for (const ch of String(name)) hash = (hash * 31 + ch.codePointAt(0)) | 0;
  const hue = ((hash % 360) + 360) % 360;
  return `hsl(${hue} 65% 42%)`;
}

/** A cell's value and flag: `[value, flag]` pairs or plain values. */
export function cellParts(cell) {
  if (Array.isArray(cell)) return [cell[0], typeof cell[1] === "string" ? cell[1] : ""];
  return [cell, ""];
}
