/**
 * The replay player (`#/recordings/<uuid>`): reads the recording's ZIP from
 * the master by HTTP Range (zipreader.js + recording.js: the manifest, the
 * frame index, then only the frames a moment needs) and shows the timing
 * screen of the live page — the same table (table.js), messages panel
 * (messages.js), flag band and track data — with play/pause, speed 1×–60×,
 * a seek bar with the flag periods drawn on it, and a jump to `+H:MM:SS`
 * (from the recording's start, as `livetiming-rectool state-at` reads it).
 * The recording's analysis file, when the catalogue has one, is shown by the
 * live analysis page (analysis.js) and gives the flag periods; without one,
 * the periods are drawn as the replay passes them.
 *
 * Keys: space plays or pauses, ← and → step ten seconds of the race.
 *
 * For tests and the benchmark, `window.livetiming.replay` is the player:
 * `seek(t)` resolves once the state at t is drawn; the container's
 * `data-time` is the Unix time of the frame shown.
 */
import { mountAnalysis } from "./analysis.js";
import { Catalogue, addStyles, downloadUrl, formatDateTime } from "./catalogue.js";
import { el } from "./dom.js";
import { formatClock } from "./format.js";
import { MessagesPanel } from "./messages.js";
import { FLAGS, MessageClass, topics } from "./protocol.js";
import { Recording } from "./recording.js";
import { TimingTable } from "./table.js";

export const SPEEDS = [1, 2, 5, 10, 20, 30, 60];
/** `#/recordings/local` plays the file chosen on the recordings page (read from disk, nothing uploaded). */
export const LOCAL = "local";
let localFile = null;

/** Play `file` (a File or Blob) at `#/recordings/local`. */
export function openLocalFile(file) {
  localFile = file;
  window.location.hash = `#/recordings/${LOCAL}`;
}
const TICK_MS = 100;
const FLASH_MAX_SPEED = 2;
const CLOCK_STOPPED = new Set(["none", "red", "chequered"]);
const FLAG_LABELS = {
  none: "", green: "Green flag", white: "White flag", chequered: "Chequered flag", yellow: "Yellow flag",
  fcy: "Full course yellow", code_60: "Code 60", vsc: "Virtual safety car", sc: "Safety car",
  caution: "Caution", red: "Red flag", slow_zone: "Slow zone", code_60_zone: "Code 60 zone",
};

/** Seconds of `+H:MM:SS`, `+M:SS`, `+S` (the `+` optional), or null. */
export function parseOffset(text) {
  const parts = String(text || "").trim().replace(/^\+/, "").split(":");
  if (parts.length < 1 || parts.length > 3 || parts.some((part) => !/^\d+(\.\d+)?$/.test(part))) return null;
  const numbers = parts.map(Number);
  if (numbers.slice(1).some((n) => n >= 60)) return null;
  return numbers.reduce((total, n) => total * 60 + n, 0);
}

export function formatOffset(seconds) {
  return `+${formatClock(Math.max(0, seconds))}`;
}

function flagName(value) {
  const name = typeof value === "string" ? value.toLowerCase() : "none";
  return Object.hasOwn(FLAG_LABELS, name) ? name : "none";
}

export function mountPlayer(container, { client, settings, uuid }) {
  addStyles();
  const catalogue = new Catalogue(client);
  const title = el("h1", { id: "service-name", text: "Opening the recording…" });
  const description = el("p", { class: "description", id: "service-description" });
  const recorded = el("p", { class: "muted", id: "replay-recorded" });
  const status = el("p", { class: "muted", id: "replay-status", text: "Reading the recording…" });
  const downloads = el("p", { class: "downloads muted", id: "replay-downloads" });
  const flag = el("div", { class: "flag flag-none", id: "flag", "data-flag": "none" });
  const elapsed = el("span", { id: "elapsed" });
  const remaining = el("span", { id: "remaining" });
  const trackData = el("dl", { class: "track-data", id: "track-data" });
  const messages = new MessagesPanel();
  const table = new TimingTable(toggleFocus);
  const playButton = el("button", { type: "button", id: "replay-play", text: "▶ Play", disabled: true });
  const speedSelect = el("select", { id: "replay-speed", disabled: true, "aria-label": "Speed" },
    SPEEDS.map((speed) => el("option", { value: speed, text: `${speed}×` })));
  const seekBar = el("input", { type: "range", id: "replay-seek", min: 0, max: 0, step: 1, value: 0, disabled: true,
    "aria-label": "Position in the recording" });
  const flagStrip = el("div", { class: "replay-flags", id: "replay-flags" });
  const clock = el("span", { id: "replay-clock", class: "replay-clock", text: "+0:00:00" });
  const jumpInput = el("input", { type: "text", id: "replay-jump", placeholder: "+H:MM:SS", size: 9,
    "aria-label": "Jump to a time from the start", title: "Jump to a time from the start: +H:MM:SS" });
  const jumpForm = el("form", { class: "replay-jump" }, jumpInput, " ", el("button", { type: "submit", text: "Go" }));
  const timingTab = el("button", { type: "button", class: "tab active", id: "tab-timing", text: "Timing" });
  const analysisTab = el("button", { type: "button", class: "tab", id: "tab-analysis", text: "Analysis", hidden: true });
  const timingView = el("div", { id: "replay-timing" },
    flag,
    el("p", { class: "clocks" }, el("span", { class: "label", text: "Elapsed " }), elapsed,
      el("span", { class: "label", text: " Remaining " }), remaining),
    el("div", { class: "table-wrap" }, table.element),
    el("div", { class: "panels" }, messages.element,
      el("section", { class: "panel" }, el("h2", { text: "Track" }), trackData)));
  const analysisView = el("div", { id: "replay-analysis", hidden: true });
  const root = el("div", { id: "player", "data-state": "loading" },
    el("header", { class: "service-header" },
      el("nav", {}, el("a", { href: "#/recordings", class: "nav", text: "◂ Recordings" }), timingTab, analysisTab),
      title, description, recorded, downloads, status),
    el("div", { class: "replay-controls" }, playButton, speedSelect, clock, jumpForm),
    el("div", { class: "replay-seek" }, seekBar, flagStrip),
    timingView, analysisView);
  container.append(root);

  let recording = null;
  let manifest = null;
  let analysis = null;
  let analysisPage = null;
  let current = null; // {position, time, state} shown
  let playing = false;
  let speed = 1;
  let anchor = { wall: 0, t: 0 }; // replay time t at performance.now() wall
  let wanted = null; // the newest time asked for while a read is running
  let loading = null; // the running read
  let destroyed = false;
  let timer = null;
  const seenFlags = []; // [time, flag] as the replay passes them (no analysis)
  const waiters = [];

  /** The replay's time now (Unix seconds). */
  function now() {
    if (!playing) return anchor.t;
    return anchor.t + ((performance.now() - anchor.wall) / 1000) * speed;
  }

  function setAnchor(t) {
    anchor = { wall: performance.now(), t: Math.min(Math.max(t, recording.first), recording.last) };
  }

  /** Show the state at t; reads run one at a time, the newest request wins. */
  function goTo(t) {
    wanted = t;
    if (!loading) loading = run();
    return new Promise((resolve, reject) => waiters.push({ t, resolve, reject }));
  }

  async function run() {
    try {
      while (wanted !== null && !destroyed) {
        const t = wanted;
        wanted = null;
        const started = performance.now();
        // playing: read the next two seconds' worth of frames with this request
        const next = await recording.advance(current, t, { ahead: playing ? Math.ceil(speed * 2) : 0 });
        if (destroyed) return;
        current = next;
        draw(current.state);
        api.lastDrawMs = performance.now() - started;
        if (wanted === null) for (const waiter of waiters.splice(0)) waiter.resolve(current);
      }
    } catch (error) {
      status.textContent = `This recording cannot be read: ${error.message}`;
      for (const waiter of waiters.splice(0)) waiter.reject(error);
      pause();
    } finally {
      loading = null;
    }
  }

  function tick() {
    if (!recording) return;
    let t = now();
    if (t >= recording.last) {
      t = recording.last;
      pause();
      setAnchor(t);
    }
    // a failed read shows in the status line (run); nothing more to do here
    if (!current || recording.positionAt(t) !== current.position) goTo(t).catch(() => {});
    showClock(t);
  }

  function play() {
    if (!recording) return;
    if (now() >= recording.last) setAnchor(recording.first);
    else setAnchor(now());
    playing = true;
    playButton.textContent = "❚❚ Pause";
    root.dataset.state = "playing";
    clearInterval(timer);
    timer = setInterval(tick, TICK_MS);
    tick();
  }

  function pause() {
    if (playing) setAnchor(now());
    playing = false;
    clearInterval(timer);
    timer = null;
    playButton.textContent = "▶ Play";
    if (recording) root.dataset.state = "paused";
  }

  function setSpeed(value) {
    const chosen = SPEEDS.includes(Number(value)) ? Number(value) : 1;
    if (playing) setAnchor(now());
    speed = chosen;
    speedSelect.value = String(chosen);
    root.dataset.speed = String(chosen);
  }

  function seek(t) {
    setAnchor(t);
    showClock(anchor.t);
    return goTo(anchor.t);
  }

  function showClock(t) {
    clock.textContent = `${formatOffset(t - recording.startTime)} / ${formatOffset(recording.last - recording.startTime)}`;
    if (document.activeElement !== seekBar) seekBar.value = String(Math.round(t - recording.first));
  }

  function draw(state) {
    root.dataset.time = String(current.time);
    root.dataset.position = String(current.position);
    // the rows' flash (a 1.5 s animation restarted per update) only at live-like speeds: faster, it is
    // noise, and the animations restarted ten times a second leave Blink much garbage to collect
    const flash = playing && speed <= FLASH_MAX_SPEED ? state.highlight : [];
    table.update(state.cars, flash, settings.focus[`replay:${uuid}`] || null);
    messages.update(state.messages);
    const session = state.session || {};
    const name = flagName(session.flagState);
    flag.className = `flag flag-${name}`;
    flag.dataset.flag = name;
    flag.textContent = FLAG_LABELS[name] || "";
    const specs = Array.isArray(manifest.trackDataSpec) ? manifest.trackDataSpec : [];
    const values = Array.isArray(session.trackData) ? session.trackData : [];
    trackData.replaceChildren(...specs.flatMap((heading, i) =>
      [el("dt", { text: heading }), el("dd", { text: values[i] ?? "" })]));
    // the session clocks as recorded: they only move with the replay
    const running = !CLOCK_STOPPED.has(name);
    const since = running ? Math.max(0, now() - current.time) : 0;
    elapsed.textContent = typeof session.timeElapsed === "number" ? formatClock(session.timeElapsed + since) : "–";
    if (typeof session.lapsRemain === "number") remaining.textContent = `${session.lapsRemain} laps`;
    else if (typeof session.timeRemain === "number") remaining.textContent = formatClock(session.timeRemain - since);
    else remaining.textContent = "–";
    if (!analysis) noteFlag(current.time, name);
  }

  function toggleFocus(num) {
    if (!num) return;
    const key = `replay:${uuid}`;
    settings.focus = { ...settings.focus };
    if (settings.focus[key] === num) delete settings.focus[key];
    else settings.focus[key] = num;
    if (current) draw(current.state);
  }

  // --- flag periods on the seek bar ------------------------------------------------------------------------------

  function periodsFromAnalysis() {
    const stats = Array.isArray(analysis?.session?.flagStats) ? analysis.session.flagStats : [];
    return stats.filter(Array.isArray).map(([value, , start, , end]) => ({
      flag: typeof value === "number" ? FLAGS[value] || "none" : flagName(value),
      start: typeof start === "number" ? start : recording.first,
      end: typeof end === "number" ? end : recording.last,
    }));
  }

  function noteFlag(time, name) {
    const last = seenFlags[seenFlags.length - 1];
    if (last && last[1] === name) return;
    seenFlags.push([time, name]);
    seenFlags.sort((a, b) => a[0] - b[0]);
    drawFlags(seenFlags.map(([start, flagValue], i) => ({
      flag: flagValue, start, end: i + 1 < seenFlags.length ? seenFlags[i + 1][0] : time,
    })));
  }

  function drawFlags(periods) {
    const span = Math.max(1, recording.last - recording.first);
    flagStrip.replaceChildren(...periods.filter((p) => p.flag !== "none" && p.flag !== "green" && p.end > p.start).map((p) => {
      const left = Math.max(0, (p.start - recording.first) / span) * 100;
      const width = Math.max(0.2, (Math.min(p.end, recording.last) - Math.max(p.start, recording.first)) / span * 100);
      return el("span", { class: `period flag-${p.flag}`, "data-flag": p.flag, title: `${p.flag.replace(/_/g, " ")} `
        + `${formatOffset(p.start - recording.startTime)}–${formatOffset(p.end - recording.startTime)}`,
      style: `left:${left.toFixed(3)}%;width:${width.toFixed(3)}%` });
    }));
  }

  // --- the analysis tab ------------------------------------------------------------------------------------------

  function showTab(which) {
    const onAnalysis = which === "analysis";
    timingView.hidden = onAnalysis;
    analysisView.hidden = !onAnalysis;
    timingTab.classList.toggle("active", !onAnalysis);
    analysisTab.classList.toggle("active", onAnalysis);
    if (onAnalysis && !analysisPage && analysis) {
      // the live analysis page over the recording's analysis file (no network)
      const stillClient = {
        subscribe(topic, handler) {
          if (topic === topics.state(uuid) && current) {
            Promise.resolve().then(() => handler([{ msgClass: MessageClass.SERVICE_DATA, date: Date.now(),
              payload: current.state }], {}, { topic }));
          }
          return Promise.resolve({ unsubscribe() {} });
        },
        call: () => Promise.resolve({ args: [analysis], kwargs: {} }),
      };
      const stillDirectory = { loaded: true, get: () => manifest, listen: () => () => {} };
      analysisPage = mountAnalysis(analysisView, { client: stillClient, directory: stillDirectory, uuid });
      analysisView.querySelector("header nav")?.remove();
      analysisPage.reconnected();
    }
  }
  timingTab.addEventListener("click", () => showTab("timing"));
  analysisTab.addEventListener("click", () => showTab("analysis"));

  // --- controls --------------------------------------------------------------------------------------------------

  playButton.addEventListener("click", () => (playing ? pause() : play()));
  speedSelect.addEventListener("change", () => setSpeed(speedSelect.value));
  seekBar.addEventListener("input", () => seek(recording.first + Number(seekBar.value)).catch(() => {}));
  jumpForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const offset = parseOffset(jumpInput.value);
    if (offset === null) {
      jumpInput.setCustomValidity("Use +H:MM:SS");
      jumpInput.reportValidity();
      return;
    }
    jumpInput.setCustomValidity("");
    seek(recording.startTime + offset).catch(() => {});
  });

  /** Space plays or pauses, the arrows step 10 s (not while typing or on a control). */
  function onKey(event) {
    if (!recording || root.dataset.state === "loading" || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target instanceof Element && event.target.closest("input, select, textarea, button, a")) return;
    if (event.key === " ") {
      event.preventDefault();
      if (playing) pause();
      else play();
    } else if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      event.preventDefault();
      seek(now() + (event.key === "ArrowRight" ? 10 : -10)).catch(() => {});
    }
  }
  document.addEventListener("keydown", onKey);

  // --- opening ---------------------------------------------------------------------------------------------------

  async function open() {
    const started = performance.now();
    const file = uuid === LOCAL ? localFile : null;
    try {
      recording = await Recording.open(file || downloadUrl(uuid, "zip"));
    } catch (error) {
      if (destroyed) return;
      title.textContent = "Recording not available";
      status.textContent = /HTTP 404/.test(error.message)
        ? "No such recording here (recordings are served by the master)." : `Cannot read it: ${error.message}`;
      root.dataset.state = "error";
      return;
    }
    if (destroyed) return;
    manifest = recording.manifest;
    title.textContent = manifest.name || "(unnamed)";
    description.textContent = manifest.description || "";
    document.title = `${manifest.name || "Recording"} – replay`;
    recorded.textContent = `Replay · recorded ${formatDateTime(recording.startTime)} · `
      + `${formatClock(recording.duration)} · ${recording.times.length} frames`;
    if (file) {
      recorded.textContent += ` · from the file ${file.name || ""}`;
    } else {
      downloads.replaceChildren(el("a", { href: downloadUrl(uuid, "zip"), download: "", class: "download-zip",
        text: "Download ZIP" }));
    }
    table.setColumns(manifest.colSpec, settings.hidden);
    seekBar.max = String(Math.max(0, recording.last - recording.first));
    try {
      await seek(recording.first);
    } catch (error) {
      root.dataset.state = "error"; // run() has said why in the status line
      return;
    }
    if (destroyed) return;
    api.openMs = performance.now() - started;
    status.textContent = "";
    playButton.disabled = false;
    speedSelect.disabled = false;
    seekBar.disabled = false;
    root.dataset.state = "paused";
    setSpeed(1);
    if (!file) loadAnalysis();
  }

  async function loadAnalysis() {
    try {
      const entry = await catalogue.entry(uuid, manifest.name);
      if (destroyed || !entry || !entry.hasAnalysis) return;
      const answer = await fetch(downloadUrl(uuid, "json"));
      if (!answer.ok) return;
      analysis = await answer.json();
      if (destroyed || !analysis || typeof analysis !== "object") return;
      drawFlags(periodsFromAnalysis());
      analysisTab.hidden = false;
      downloads.append(" ", el("a", { href: downloadUrl(uuid, "json"), download: "", class: "download-analysis",
        text: "Download analysis" }));
      root.dataset.analysis = "loaded";
    } catch (error) {
      /* without an analysis file the periods are drawn as the replay passes them */
    }
  }

  const api = {
    get recording() { return recording; },
    get current() { return current; },
    get playing() { return playing; },
    get speed() { return speed; },
    now: () => now(),
    seek: (t) => seek(t),
    play: () => play(),
    pause: () => pause(),
    setSpeed: (value) => setSpeed(value),
    openMs: null,
    lastDrawMs: null,
  };
  if (window.livetiming) window.livetiming.replay = api;
  open();

  return {
    destroy() {
      destroyed = true;
      clearInterval(timer);
      document.removeEventListener("keydown", onKey);
      catalogue.close();
      if (analysisPage) analysisPage.destroy();
      if (window.livetiming && window.livetiming.replay === api) delete window.livetiming.replay;
    },
  };
}
