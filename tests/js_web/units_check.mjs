#!/usr/bin/env node
// Pure parts of the web app under node, for tests/test_web_node.py.
// argv[2]: {"relays": [{"listing": {...}, "fallback": url}, ...]}. Prints one
// JSON line: for each listing every URL the app's pickLeastLoaded can choose
// (trying the whole range of its random source) and its listingOf/route
// results; and checks of the delay buffer on a fake clock and of formatting.
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const js = `${here}../../src/livetiming/web/static/js/`;
const { pickLeastLoaded, listingOf, ownWebSocket } = await import(`${js}relays.js`);
const { DelayBuffer } = await import(`${js}delay.js`);
const { formatTime, formatDelta, formatClock, decodeEntities } = await import(`${js}format.js`);
const { mergeKey, stintsOf } = await import(`${js}analysis.js`);
const { route } = await import(`${js}routes.js`);
const { backoffDelay } = await import(`${js}wamp.js`);

const plan = JSON.parse(process.argv[2]);

const relays = plan.relays.map(({ listing, fallback }) => {
  const choices = new Set();
  for (let k = 0; k < 100; k++) choices.add(pickLeastLoaded(listing, fallback, () => k / 100));
  return [...choices].sort();
});

// the delay buffer on a fake clock: nothing is released before its time
let now = 1000;
const released = [];
const buffer = new DelayBuffer((item, at) => released.push({ item, at, now }), () => now);
buffer.setDelay(5);
buffer.push("a");
now += 4999;
buffer.setDelay(5); // reschedules, releases nothing yet
const early = released.length;
now += 1;
buffer.setDelay(5);
const onTime = released.map((r) => r.item);
buffer.push("b");
buffer.push("c");
now += 2000;
buffer.setDelay(0); // a shorter delay releases what is due, newest only
buffer.stop();

const data = { stint: { 7: [[0, 10, 5, 20, false, 0, 90, 0, 91, []]] }, lap: {} };
mergeKey(data, "lap/7", { 7: [[5, 25, 8, 40, true, 1, 89, 1, 90, []], 40] });
mergeKey(data, "session", { leaderLap: 8 });

process.stdout.write(`${JSON.stringify({
  relays,
  listingOf: [listingOf({ args: [{ "ws://a:1/ws": 2, "http://x": 1, "ws://b:2/ws": "many" }] }), listingOf({}),
    listingOf({ args: [[1]] })],
  own: [ownWebSocket({ protocol: "http:", host: "h:5080" }), ownWebSocket({ protocol: "https:", host: "h" })],
  delay: { early, onTime, after: released.map((r) => r.item) },
  format: [formatTime(83.456), formatTime(9.5), formatTime(601.0001), formatTime("IN PIT"), formatDelta(1.5),
    formatDelta(75), formatDelta("1 lap"), formatClock(3725.9), decodeEntities("&copy; A &amp; B &#169; &bogus;")],
  analysis: { stints: stintsOf(data, "7").length, session: data.session.leaderLap },
  backoff: [0, 1, 2, 3, 4, 5, 6, 7, 20].map((n) => backoffDelay(n, { random: () => 0.5 }))
    .concat([backoffDelay(0, { random: () => 0 }), backoffDelay(0, { random: () => 0.999999 })]),
  routes: ["", "#/", "#/abc123", "#/abc123/analysis", "#/abc123/other", "#/bad uuid", "#/../x"].map(route),
})}\n`);
