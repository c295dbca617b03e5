/**
 * The timing page (`#/<uuid>`): header (name, description, flag band, clocks
 * that tick locally between updates, age of the last update, attribution),
 * the column-spec-driven table, messages and track data, and the viewer's
 * settings (delay, hidden columns, focused car).
 *
 * The state arrives retained on subscription and with every publish; it is
 * held by the delay buffer as it came (compressed) and decoded and drawn
 * when released. Every drawn update is recorded in
 * `metrics` (arrival, draw time, decode and render cost) for tests and the
 * benchmark.
 */
import { DelayBuffer } from "./delay.js";
import { el, safeLink } from "./dom.js";
import { decodeEntities, formatAge, formatClock } from "./format.js";
import { MessagesPanel } from "./messages.js";
import { MessageClass, topics, unwrap } from "./protocol.js";
import { clampDelay, saveSettings } from "./settings.js";
import { TimingTable, columnsOf } from "./table.js";

const FLAG_LABELS = {
  none: "", green: "Green flag", white: "White flag", chequered: "Chequered flag", yellow: "Yellow flag",
  fcy: "Full course yellow", code_60: "Code 60", vsc: "Virtual safety car", sc: "Safety car",
  caution: "Caution", red: "Red flag", slow_zone: "Slow zone", code_60_zone: "Code 60 zone",
};
const CLOCK_STOPPED = new Set(["none", "red", "chequered"]);
const STATE_CLASSES = new Set([MessageClass.SERVICE_DATA, MessageClass.SERVICE_DATA_COMPRESSED]);

export function mountTiming(container, { client, directory, settings, metrics, uuid }) {
  const title = el("h1", { id: "service-name", text: "Connecting…" });
  const description = el("p", { class: "description", id: "service-description" });
  const gone = el("p", { class: "gone", id: "service-status", hidden: true });
  const flag = el("div", { class: "flag flag-none", id: "flag", "data-flag": "none" });
  const elapsed = el("span", { id: "elapsed" });
  const remaining = el("span", { id: "remaining" });
  const age = el("span", { id: "age" });
  const delayNote = el("span", { id: "delay-note", class: "muted" });
  const source = el("p", { class: "source", id: "source" });
  const analysisLink = el("a", { href: `#/${uuid}/analysis`, class: "nav", hidden: true, text: "Analysis" });
  const trackData = el("dl", { class: "track-data", id: "track-data" });
  const messages = new MessagesPanel();
  const settingsPanel = el("details", { class: "settings", id: "settings" });
  const table = new TimingTable(toggleFocus);
  const waiting = el("p", { class: "muted", id: "table-status", text: "Waiting for timing data…" });

  container.append(
    el("header", { class: "service-header" },
      el("nav", {}, el("a", { href: "#/", class: "nav", text: "◂ Services" }), analysisLink),
      title, description, gone, flag,
      el("p", { class: "clocks" }, el("span", { class: "label", text: "Elapsed " }), elapsed,
        el("span", { class: "label", text: " Remaining " }), remaining,
        el("span", { class: "label", text: " Updated " }), age, " ", delayNote),
      source),
    settingsPanel,
    el("div", { class: "table-wrap" }, waiting, table.element),
    el("div", { class: "panels" }, messages.element,
      el("section", { class: "panel" }, el("h2", { text: "Track" }), trackData)),
  );

  let manifest = null;
  let askedHidden = false;
  let colSpecKey = null;
  let shown = null; // the update on screen: {state, date, receivedAt, decodeMs}
  let newestDate = -Infinity;
  const buffer = new DelayBuffer(show);
  buffer.setDelay(settings.delay);

  function applyManifest() {
    const next = directory.get(uuid);
    if (!next) {
      if (!manifest && directory.loaded && !askedHidden) {
        askedHidden = true; // perhaps a hidden service started since the last listing
        directory.refresh();
      }
      if (!manifest) title.textContent = directory.loaded ? "Service not found" : "Connecting…";
      else if (directory.loaded) {
        gone.hidden = false;
        gone.textContent = "This service is no longer live: the table shows its last state.";
      }
      return;
    }
    gone.hidden = true;
    manifest = next;
    title.textContent = manifest.name || "(unnamed)";
    description.textContent = manifest.description || "";
    document.title = `${manifest.name || "Live timing"} – live timing`;
    analysisLink.hidden = !manifest.hasAnalysis;
    source.replaceChildren(...(Array.isArray(manifest.source) && manifest.source[0]
      ? ["Source: ", safeLink(manifest.source[1], decodeEntities(manifest.source[0]))] : []));
    const key = JSON.stringify(manifest.colSpec || []);
    if (key !== colSpecKey) {
      colSpecKey = key;
      table.setColumns(manifest.colSpec, settings.hidden);
      drawSettings();
      if (shown) render(shown);
    }
  }

  function drawSettings() {
    const delayInput = el("input", { type: "number", min: 0, max: 600, step: 1, id: "delay", value: settings.delay });
    delayInput.addEventListener("change", () => {
      settings.delay = clampDelay(delayInput.value);
      delayInput.value = settings.delay;
      saveSettings(settings);
      buffer.setDelay(settings.delay);
      tick();
    });
    const hidden = new Set(settings.hidden);
    const boxes = columnsOf(manifest ? manifest.colSpec : []).map((column) => {
      const box = el("input", { type: "checkbox", checked: !hidden.has(column.heading), "data-heading": column.heading });
      box.addEventListener("change", () => {
        const set = new Set(settings.hidden);
        if (box.checked) set.delete(column.heading);
        else set.add(column.heading);
        settings.hidden = [...set];
        saveSettings(settings);
        table.setColumns(manifest.colSpec, settings.hidden);
        if (shown) draw(shown.state);
      });
      return el("label", { class: "column-choice" }, box, ` ${column.heading}`);
    });
    settingsPanel.replaceChildren(
      el("summary", { text: "Settings" }),
      el("label", {}, "Delay (seconds) ", delayInput),
      el("p", { class: "muted", text: "Columns shown (click a row to focus a car):" }),
      el("div", { class: "column-choices" }, boxes));
  }

  function toggleFocus(num) {
    if (!num) return;
    settings.focus = { ...settings.focus };
    if (settings.focus[uuid] === num) delete settings.focus[uuid];
    else settings.focus[uuid] = num;
    saveSettings(settings);
    if (shown) draw(shown.state);
  }

  function receive(wrapper) {
    if (!wrapper || !STATE_CLASSES.has(wrapper.msgClass)) return;
    const date = typeof wrapper.date === "number" ? wrapper.date : Date.now();
    offer({ wrapper, date, receivedAt: Date.now() });
  }

  /** Queue an update for drawing. A requestState answer (`published`
   * false) has no date of its own: it never holds back a published state. */
  function offer(item, published = true) {
    if (item.date < newestDate) return;
    if (published) newestDate = item.date;
    buffer.push(item);
  }

  /** A released update: decoded now (only what is drawn is decoded, and a
   * long delay holds compressed text, not parsed states), then drawn. */
  function show(item) {
    if (item.wrapper) {
      const started = performance.now();
      try {
        item.state = unwrap(item.wrapper).payload;
      } catch (e) {
        console.warn("Ignoring an undecodable state:", e.message); // eslint-disable-line no-console
        return;
      }
      item.decodeMs = performance.now() - started;
      item.wrapper = null;
    }
    if (!item.state || typeof item.state !== "object" || !Array.isArray(item.state.cars)) return;
    shown = item;
    render(item);
  }

  /** Draw an update (once the manifest is known) and record what it cost. */
  function render(item) {
    const started = performance.now();
    if (!draw(item.state)) return;
    const renderMs = performance.now() - started;
    const shownAt = Date.now();
    table.element.dataset.date = String(item.date);
    const entry = { date: item.date, receivedAt: item.receivedAt, shownAt, decodeMs: item.decodeMs, renderMs,
      cars: Array.isArray(item.state.cars) ? item.state.cars.length : 0, paintedAt: null };
    metrics.record(entry);
    metrics.shown = item.state;
    requestAnimationFrame(() => { entry.paintedAt = Date.now(); });
    tick();
  }

  /** The state on screen; false while the manifest (the columns) is unknown. */
  function draw(state) {
    if (!manifest) return false;
    waiting.hidden = true;
    table.update(state.cars, state.highlight, settings.focus[uuid] || null);
    messages.update(state.messages);
    const session = state.session || {};
    const name = typeof session.flagState === "string" ? session.flagState.toLowerCase() : "none";
    const known = Object.hasOwn(FLAG_LABELS, name) ? name : "none";
    flag.className = `flag flag-${known}`;
    flag.dataset.flag = known;
    flag.textContent = FLAG_LABELS[known] || "";
    const specs = Array.isArray(manifest.trackDataSpec) ? manifest.trackDataSpec : [];
    const values = Array.isArray(session.trackData) ? session.trackData : [];
    const trackKey = JSON.stringify([specs, values]);
    if (trackKey !== trackData.dataset.key) {
      trackData.dataset.key = trackKey;
      trackData.replaceChildren(...specs.flatMap((heading, i) =>
        [el("dt", { text: heading }), el("dd", { text: values[i] ?? "" })]));
    }
    return true;
  }

  /** Clocks and age, once a second and after each update. */
  function tick() {
    delayNote.textContent = settings.delay ? `(delayed ${settings.delay} s)` : "";
    if (!shown) return;
    const session = shown.state.session || {};
    const running = !CLOCK_STOPPED.has(String(session.flagState || "none").toLowerCase());
    // the state describes the moment it was sent; the viewer sees it `delay` later
    const since = running ? Math.max(0, (Date.now() - settings.delay * 1000 - shown.date) / 1000) : 0;
    elapsed.textContent = typeof session.timeElapsed === "number" ? formatClock(session.timeElapsed + since) : "–";
    if (typeof session.lapsRemain === "number") remaining.textContent = `${session.lapsRemain} laps`;
    else if (typeof session.timeRemain === "number") remaining.textContent = formatClock(session.timeRemain - since);
    else remaining.textContent = "–";
    age.textContent = `${formatAge(Date.now() - settings.delay * 1000 - shown.date)} ago`;
  }

  const subscription = client.subscribe(topics.state(uuid), (args) => receive(args[0]), { get_retained: true });
  const stopListening = directory.listen(applyManifest);
  const clock = setInterval(tick, 1000);
  applyManifest();
  drawSettings();
  tick();

  return {
    /** When the connection (re)opens: also ask for the state, in case nothing is retained. */
    reconnected() {
      client.call(topics.requestState(uuid)).then((result) => {
        if (newestDate === -Infinity && result.args[0]) {
          offer({ state: result.args[0], date: Date.now(), receivedAt: Date.now(), decodeMs: 0 }, false);
        }
      }, () => {});
    },
    destroy() {
      clearInterval(clock);
      buffer.stop();
      stopListening();
      subscription.then((s) => s.unsubscribe(), () => {});
    },
  };
}
