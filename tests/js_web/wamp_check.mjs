#!/usr/bin/env node
// Drives the app's own WAMP client (src/livetiming/web/static/js/wamp.js) over
// the `ws` package (tests/js/node_modules) against a real Crossbar with the
// demo in it, for tests/test_web_node.py. argv[2]: {"url", "uuid", "timeout_ms"}.
// Each step is awaited on the event it expects (bounded by timeout_ms);
// prints one JSON line {ok, steps: {...}} or {ok: false, failed, error, steps}.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const require = createRequire(`${here}../js/`);
const WebSocket = require("ws");
const static_ = `${here}../../src/livetiming/web/static/js/`;
const { WampClient, WampError } = await import(`${static_}wamp.js`);
const { unwrap } = await import(`${static_}protocol.js`);

const plan = JSON.parse(process.argv[2]);
const steps = {};
let current = "start";

function within(promise, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), plan.timeout_ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** A queue of events a handler receives, awaited one at a time. */
function inbox() {
  const items = [];
  const waiters = [];
  return {
    handler: (args, kwargs, details) => {
      const item = { args, kwargs, details };
      if (waiters.length) waiters.shift()(item);
      else items.push(item);
    },
    next: (what) => within(items.length ? Promise.resolve(items.shift()) : new Promise((r) => waiters.push(r)), what),
    drain: () => items.splice(0),
  };
}

const events = { opened: 0, closed: [] };
let openedWaiter = null;
const client = new WampClient(plan.url, {
  WebSocket,
  backoff: () => 200,
  onOpen: () => {
    events.opened += 1;
    if (openedWaiter) openedWaiter();
  },
  onClose: (reason) => events.closed.push(reason),
});

async function run() {
  current = "join";
  client.open();
  steps.session = await within(client.ready(), "welcome");

  current = "retained directory";
  const directory = inbox();
  await client.subscribe("livetiming.directory", directory.handler, { get_retained: true });
  // the retained listing comes at once; it may predate the demo, whose
  // listing then follows within the directory's publish interval
  let listing = await directory.next("retained directory listing");
  const retained = listing.details.retained === true;
  let decoded = unwrap(listing.args[0]);
  while (!decoded.payload.some((m) => m.uuid === plan.uuid)) {
    listing = await directory.next("a directory listing with the demo");
    decoded = unwrap(listing.args[0]);
  }
  steps.directory = { msgClass: decoded.msgClass, retained, uuids: decoded.payload.map((m) => m.uuid) };

  current = "call";
  const services = await within(client.call("livetiming.directory.listServices"), "listServices");
  steps.listServices = services.args[0].map((m) => m.uuid);
  const state = await within(client.call(`livetiming.service.requestState.${plan.uuid}`), "requestState");
  steps.requestState = { cars: state.args[0].cars.length };

  current = "call error";
  try {
    await within(client.call("livetiming.service.requestState.no-such-service"), "error");
    steps.error = null;
  } catch (e) {
    steps.error = { wampError: e instanceof WampError, uri: e.uri };
  }

  current = "prefix subscription";
  const states = inbox();
  const prefix = await client.subscribe("livetiming.service.", states.handler, { match: "prefix", get_retained: true });
  const first = await states.next("a state by prefix");
  const message = unwrap(first.args[0]);
  steps.prefix = { topic: first.details.topic, msgClass: message.msgClass, cars: message.payload.cars.length };
  const live = await states.next("a live state");
  steps.live = { topic: live.details.topic, newer: live.args[0].date >= first.args[0].date };

  current = "analysis prefix";
  const analysis = inbox();
  await client.subscribe(`livetiming.analysis/${plan.uuid}/`, analysis.handler, { match: "prefix", get_retained: true });
  const key = await analysis.next("a retained analysis key");
  steps.analysis = { topic: key.details.topic, msgClass: key.args[0].msgClass };

  current = "reconnect";
  const sessionBefore = client.sessionId;
  const reopened = new Promise((resolve) => { openedWaiter = resolve; });
  client.socket.terminate(); // the connection drops under the client
  await within(reopened, "rejoin after the socket dropped");
  states.drain();
  const again = await states.next("a state after the rejoin");
  steps.reconnect = { newSession: client.sessionId !== sessionBefore, closedReasons: events.closed.length,
    topic: again.details.topic, resubscribed: prefix.id !== null };

  current = "unsubscribe";
  prefix.unsubscribe();
  states.drain();
  await within(client.call(`livetiming.service.requestState.${plan.uuid}`), "a call after unsubscribe");
  steps.unsubscribe = { active: prefix.active, subscriptions: client.subscriptions.size };

  current = "close";
  const socket = client.socket;
  const closed = new Promise((resolve) => socket.addEventListener("close", (event) => resolve(event.code)));
  client.close();
  steps.close = { code: await within(closed, "clean close"), opened: events.opened };
  // a closed client never reconnects: nothing is scheduled any more
  steps.close.reconnecting = client.socket !== null;
}

try {
  await run();
  process.stdout.write(`${JSON.stringify({ ok: true, steps })}\n`);
  process.exit(0);
} catch (e) {
  process.stdout.write(`${JSON.stringify({ ok: false, failed: current, error: String(e), steps })}\n`);
  process.exit(0);
}
