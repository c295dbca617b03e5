/**
 * Which page a URL hash names: `#/` (or anything else) the services,
 * `#/<uuid>` the timing page, `#/<uuid>/analysis` the analysis page.
 */
const UUID = /^[A-Za-z0-9_-]{1,64}$/;

export function route(hash) {
  const parts = String(hash || "").replace(/^#\/?/, "").split("/").filter(Boolean);
  if (parts.length >= 1 && UUID.test(parts[0])) {
    return { page: parts[1] === "analysis" ? "analysis" : "timing", uuid: parts[0] };
  }
  return { page: "services", uuid: null };
}
