/**
 * Which server the page talks to. A master answers `GET /relays` with
 * `{"args": [{relay_url: client_count, ...}]}`: the page then connects to the
 * relay with the fewest clients (ties broken at random), the same rule as
 * Python's `livetiming.orchestration.relay_book.pick_least_loaded`. With no
 * relay listed, or no `/relays` at all (a relay serves the page too, and
 * answers 404), it connects to the server it came from.
 */

/** The relay with the fewest clients, or `fallback` when none is listed. */
export function pickLeastLoaded(listing, fallback, random = Math.random) {
  const urls = Object.keys(listing || {}).filter((url) => Number.isFinite(listing[url]));
  if (urls.length === 0) return fallback;
  const fewest = Math.min(...urls.map((url) => listing[url]));
  const candidates = urls.filter((url) => listing[url] === fewest).sort();
  return candidates[Math.floor(random() * candidates.length)];
}

/** The WebSocket of the server at `location` (ws: for http:, wss: for https:). */
export function ownWebSocket(location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

/** The listing in a `/relays` answer, or {} when the body is not one. */
export function listingOf(body) {
  const listing = body && Array.isArray(body.args) ? body.args[0] : null;
  if (!listing || typeof listing !== "object" || Array.isArray(listing)) return {};
  const clean = {};
  for (const [url, clients] of Object.entries(listing)) {
    if (/^wss?:\/\//.test(url) && Number.isFinite(clients)) clean[url] = clients;
  }
  return clean;
}

/** The URL to connect to, asking the serving host's `/relays` (bounded wait). */
export async function chooseServer(location, fetchImpl = fetch, timeoutMs = 3000) {
  const fallback = ownWebSocket(location);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetchImpl(`${location.protocol}//${location.host}/relays`,
      { signal: controller.signal, cache: "no-store" });
    if (!response.ok) return fallback;
    return pickLeastLoaded(listingOf(await response.json()), fallback);
  } catch (e) {
    return fallback;
  } finally {
    clearTimeout(timer);
  }
}
