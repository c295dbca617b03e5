/**
 * The analysis page (`#/<uuid>/analysis`). It subscribes to the service's
 * analysis topics (prefix, retained) first and then asks for the whole
 * analysis (`requestAnalysisData`, the v1 dict), which is newer than anything
 * retained; later events update it key by key. Shown: the session's flag
 * periods, a stint timeline, a lap chart of one car, and per car its stints
 * (driver, laps, best, average, yellow laps, pit time) and drive time per
 * driver. Redrawn at most once a second, since per-car keys trickle in.
 */
import { lapChart, stintTimeline } from "./charts.js";
import { el } from "./dom.js";
import { formatClock, formatTime } from "./format.js";
import { FLAGS, MessageClass, topics, unwrap } from "./protocol.js";

const PER_CAR = new Set(["lap", "stint", "car_messages"]);
const REDRAW_MS = 1000;

/** Merge one published key (`session`, `stint/7`, …) into the v1 dict. */
export function mergeKey(data, key, payload) {
  const [kind, car] = key.split("/", 2);
  if (PER_CAR.has(kind) && car !== undefined) {
    data[kind] = { ...(data[kind] || {}), ...(payload && typeof payload === "object" ? payload : {}) };
  } else if (!PER_CAR.has(kind)) {
    data[kind] = payload;
  }
}

/** A car's stints, completed then the current one, as the analysis keeps them. */
export function stintsOf(data, num) {
  const completed = Array.isArray(data.stint?.[num]) ? data.stint[num] : [];
  const current = Array.isArray(data.lap?.[num]) ? data.lap[num][0] : null;
  return Array.isArray(current) ? [...completed, current] : [...completed];
}

function carNumbers(data, order) {
  const all = new Set([...Object.keys(data.static || {}), ...Object.keys(data.stint || {}),
    ...Object.keys(data.lap || {})]);
  const ranked = order.filter((num) => all.has(num));
  const rest = [...all].filter((num) => !ranked.includes(num))
    .sort((a, b) => (parseInt(a, 10) || 0) - (parseInt(b, 10) || 0) || a.localeCompare(b));
  return [...ranked, ...rest];
}

function driveTimes(stints, names) {
  const totals = new Map();
  for (const stint of stints) {
    if (typeof stint[1] !== "number" || typeof stint[3] !== "number") continue;
    const name = names(stint[5]);
    totals.set(name, (totals.get(name) || 0) + (stint[3] - stint[1]));
  }
  return totals;
}

function stintTable(stints, names) {
  const rows = stints.map((stint, i) => {
    const previous = stints[i - 1];
    const pit = previous && typeof previous[3] === "number" && typeof stint[1] === "number"
      ? formatTime(stint[1] - previous[3]) : "";
    const laps = typeof stint[2] === "number" && typeof stint[0] === "number" ? stint[2] - stint[0] : "";
    return el("tr", { class: stint[4] ? "in-progress stint-row" : "stint-row" },
      el("td", { text: String(i + 1) }), el("td", { text: names(stint[5]) }), el("td", { text: String(laps) }),
      el("td", { text: formatTime(stint[6]) }), el("td", { text: formatTime(stint[8]) }),
      el("td", { text: String(stint[7] ?? "") }), el("td", { text: pit }));
  });
  return el("table", { class: "stints" },
    el("thead", {}, el("tr", {}, ["#", "Driver", "Laps", "Best", "Average", "Yellow", "Pit"].map((h) =>
      el("th", { text: h })))),
    el("tbody", {}, rows));
}

export function mountAnalysis(container, { client, directory, uuid }) {
  const title = el("h1", { id: "service-name", text: "Analysis" });
  const status = el("p", { class: "muted", id: "analysis-status", text: "Loading the analysis…" });
  const flags = el("section", { class: "panel", id: "flag-periods" });
  const timeline = el("section", { class: "panel", id: "timeline" });
  const chartCar = el("select", { id: "chart-car" });
  const chart = el("div", { id: "lap-chart" });
  const cars = el("div", { id: "cars", class: "car-list" });
  container.append(
    el("header", { class: "service-header" },
      el("nav", {}, el("a", { href: "#/", class: "nav", text: "◂ Services" }),
        el("a", { href: `#/${uuid}`, class: "nav", text: "Timing" })),
      title, status),
    flags, timeline,
    el("section", { class: "panel" }, el("h2", {}, "Lap times ", chartCar), chart),
    el("h2", { text: "Stints" }), cars);

  let data = {};
  let loaded = false;
  let order = [];
  let timer = null;
  let chosen = null;
  chartCar.addEventListener("change", () => {
    chosen = chartCar.value;
    draw();
  });

  function schedule() {
    if (timer === null) timer = setTimeout(() => { timer = null; draw(); }, REDRAW_MS);
  }

  function onAnalysis(args, kwargs, details) {
    const prefix = topics.analysisPrefix(uuid);
    if (typeof details.topic !== "string" || !details.topic.startsWith(prefix)) return;
    try {
      const message = unwrap(args[0]);
      if (message.msgClass !== MessageClass.ANALYSIS_DATA && message.msgClass !== MessageClass.ANALYSIS_DATA_COMPRESSED) return;
      mergeKey(data, details.topic.slice(prefix.length), message.payload);
    } catch (e) {
      return;
    }
    if (loaded) schedule();
  }

  function onState(args) {
    try {
      const { payload } = unwrap(args[0]);
      const numIndex = Math.max(0, (directory.get(uuid)?.colSpec || []).findIndex((c) => c[0] === "Num"));
      order = (payload.cars || []).map((car) => String(car[numIndex]));
    } catch (e) {
      /* order stays as it was */
    }
  }

  function names(num) {
    const list = Array.isArray(data.driver?.[num]) ? data.driver[num] : [];
    return (index) => (index >= 0 && index < list.length ? String(list[index]) : "Unknown");
  }

  function draw() {
    const manifest = directory.get(uuid);
    if (manifest) title.textContent = `${manifest.name} – analysis`;
    const nums = carNumbers(data, order);
    status.textContent = loaded ? `${nums.length} cars` : "Loading the analysis…";
    drawFlags();
    const all = nums.map((num) => ({ num, stints: stintsOf(data, num), driverName: names(num) }));
    timeline.replaceChildren(el("h2", { text: "Stint timeline" }),
      stintTimeline(all, data.session?.flagStats, data.session?.currentTimestamp));
    if (!chosen || !nums.includes(chosen)) chosen = nums[0] || null;
    const options = nums.join(" ");
    if (chartCar.dataset.options !== options) { // rebuilt only when the cars change (an open list stays open)
      chartCar.dataset.options = options;
      chartCar.replaceChildren(...nums.map((num) => el("option", { value: num, text: `#${num}` })));
    }
    chartCar.value = chosen || "";
    chart.replaceChildren(chosen ? lapChart(stintsOf(data, chosen)) : el("p", { class: "muted", text: "No cars yet" }));
    cars.replaceChildren(...all.map(({ num, stints, driverName }) => {
      const [cls, team, car] = Array.isArray(data.static?.[num]) ? data.static[num] : [];
      const totals = driveTimes(stints, driverName);
      return el("section", { class: "car-analysis panel", "data-car": num },
        el("h3", {}, `#${num} `, el("span", { class: "muted", text: [cls, team, car].filter(Boolean).join(" · ") })),
        stintTable(stints, driverName),
        el("ul", { class: "drive-times" }, [...totals].map(([name, seconds]) =>
          el("li", { text: `${name}: ${formatClock(seconds)}` }))));
    }));
  }

  function drawFlags() {
    const periods = Array.isArray(data.session?.flagStats) ? data.session.flagStats : [];
    flags.replaceChildren(el("h2", { text: "Flag periods" }), el("table", { class: "flag-periods" },
      el("thead", {}, el("tr", {}, ["Flag", "From lap", "To lap", "Duration"].map((h) => el("th", { text: h })))),
      el("tbody", {}, periods.map(([flag, startLap, start, endLap, end]) => {
        const name = FLAGS[flag] || "none";
        const until = typeof end === "number" ? end : data.session?.currentTimestamp;
        return el("tr", {},
          el("td", {}, el("span", { class: `swatch flag-${name}` }), ` ${name.replace(/_/g, " ")}`),
          el("td", { text: String(startLap ?? "") }), el("td", { text: endLap === null ? "now" : String(endLap ?? "") }),
          el("td", { text: typeof until === "number" && typeof start === "number" ? formatClock(until - start) : "" }));
      }))));
  }

  const subscriptions = [
    client.subscribe(topics.state(uuid), onState, { get_retained: true }),
  ];
  const stopListening = directory.listen(() => loaded && schedule());

  async function load() {
    const analysis = client.subscribe(topics.analysisPrefix(uuid), onAnalysis, { match: "prefix", get_retained: true });
    subscriptions.push(analysis);
    await analysis;
    try {
      const result = await client.call(topics.requestAnalysis(uuid));
      const whole = result.args[0];
      if (whole && typeof whole === "object") data = { ...data, ...whole };
      loaded = true;
      draw();
    } catch (e) {
      status.textContent = `The analysis is not available (${e.uri || e.message}).`;
    }
  }

  let started = false;
  return {
    reconnected() {
      if (!started) {
        started = true;
        load();
      } else {
        client.call(topics.requestAnalysis(uuid)).then((result) => {
          if (result.args[0]) data = { ...data, ...result.args[0] };
          schedule();
        }, () => {});
      }
    },
    destroy() {
      clearTimeout(timer);
      stopListening();
      for (const subscription of subscriptions) subscription.then((s) => s.unsubscribe(), () => {});
    },
  };
}
