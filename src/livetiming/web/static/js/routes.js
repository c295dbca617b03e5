/**
 * Which page a URL hash names: `#/` (or anything else) the services,
 * `#/<uuid>` the timing page, `#/<uuid>/analysis` the analysis page,
 * `#/recordings` the recordings, `#/recordings/<uuid>` the replay player.
 */
const UUID = /^[A-Za-z0-9_-]{1,64}$/;

export function route(hash) {
  const parts = String(hash || "").replace(/^#\/?/, "").split("/").filter(Boolean);
  // recordings (js/recordings.js) and the replay player (js/player.js)
  if (parts[0] === "recordings") {
    return parts.length >= 2 && UUID.test(parts[1]) ? { page: "replay", uuid: parts[1] } : { page: "recordings", uuid: null };
  }
  if (parts.length >= 1 && UUID.test(parts[0])) {
    return { page: parts[1] === "analysis" ? "analysis" : "timing", uuid: parts[0] };
  }
  return { page: "services", uuid: null };
}
