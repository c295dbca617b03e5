/**
 * The analysis page's two SVG drawings: a lap-time chart for one car (one
 * line per stint, yellow laps marked) and a stint timeline for every car
 * (one bar per stint, coloured by driver, under the session's flag periods).
 * Plain SVG elements, scaled with a viewBox so they fit a phone's width.
 */
import { svg } from "./dom.js";
import { formatClock, formatTime } from "./format.js";
import { FLAGS } from "./protocol.js";

const DRIVER_COLOURS = ["#3b82f6", "#f97316", "#10b981", "#a855f7", "#ef4444", "#eab308", "#14b8a6", "#ec4899"];
const YELLOW = 4;

export function driverColour(index) {
  return index >= 0 ? DRIVER_COLOURS[index % DRIVER_COLOURS.length] : "#888";
}

/** Lap times of a car's stints, as {lap, time, flag, stint}. */
function lapsOf(stints) {
  const points = [];
  stints.forEach((stint, s) => {
    const laps = Array.isArray(stint[9]) ? stint[9] : [];
    laps.forEach(([time, flag], i) => {
      if (typeof time === "number" && time > 0) points.push({ lap: stint[0] + i + 1, time, flag, stint: s });
    });
  });
  return points;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
}

/** The lap chart of one car; slow laps (pit, safety car) are capped at the top. */
export function lapChart(stints) {
  const width = 640;
  const height = 240;
  const pad = { left: 56, right: 8, top: 8, bottom: 24 };
  const points = lapsOf(stints);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "lap-chart", role: "img",
    "aria-label": "Lap times" });
  if (!points.length) {
    root.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "muted",
      text: "No laps yet" }));
    return root;
  }
  const best = Math.min(...points.map((p) => p.time));
  const top = Math.max(best + 1, Math.min(Math.max(...points.map((p) => p.time)), median(points.map((p) => p.time)) * 1.15));
  const first = Math.min(...points.map((p) => p.lap));
  const last = Math.max(...points.map((p) => p.lap), first + 1);
  const x = (lap) => pad.left + ((lap - first) / (last - first)) * (width - pad.left - pad.right);
  const y = (time) => pad.top + ((Math.min(time, top) - best) / (top - best)) * (height - pad.top - pad.bottom);
  for (const time of [best, (best + top) / 2, top]) {
    root.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y(time), y2: y(time), class: "grid" }),
      svg("text", { x: pad.left - 4, y: y(time) + 4, "text-anchor": "end", class: "axis", text: formatTime(time) }));
  }
  root.append(svg("text", { x: pad.left, y: height - 6, class: "axis", text: `lap ${first}` }),
    svg("text", { x: width - pad.right, y: height - 6, "text-anchor": "end", class: "axis", text: `lap ${last}` }));
  const byStint = new Map();
  for (const point of points) {
    if (!byStint.has(point.stint)) byStint.set(point.stint, []);
    byStint.get(point.stint).push(point);
  }
  for (const [s, list] of byStint) {
    const driver = stints[s][5];
    root.append(svg("polyline", { class: "laps", stroke: driverColour(driver),
      points: list.map((p) => `${x(p.lap).toFixed(1)},${y(p.time).toFixed(1)}`).join(" ") }));
    for (const p of list) {
      if (p.flag >= YELLOW) root.append(svg("circle", { cx: x(p.lap), cy: y(p.time), r: 2.5, class: "yellow-lap" }));
    }
  }
  return root;
}

/** Every car's stints over session time, the caution periods shaded over them. */
export function stintTimeline(cars, flagStats, now) {
  const rowHeight = 12;
  const pad = { left: 40, right: 8, top: 4, bottom: 20 };
  const width = 640;
  const height = pad.top + pad.bottom + rowHeight * Math.max(1, cars.length);
  const starts = cars.flatMap((car) => car.stints.map((stint) => stint[1])).filter((t) => typeof t === "number");
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "stint-timeline", role: "img",
    "aria-label": "Stint timeline" });
  if (!starts.length) return root;
  const begin = Math.min(...starts);
  const end = Math.max(now || 0, ...cars.flatMap((car) => car.stints.map((stint) => stint[3] || 0)), begin + 1);
  const x = (t) => pad.left + ((t - begin) / (end - begin)) * (width - pad.left - pad.right);
  cars.forEach((car, row) => {
    const top = pad.top + row * rowHeight;
    root.append(svg("text", { x: pad.left - 4, y: top + rowHeight - 3, "text-anchor": "end", class: "axis",
      text: car.num }));
    for (const stint of car.stints) {
      if (typeof stint[1] !== "number") continue;
      const left = x(stint[1]);
      const bar = svg("rect", { x: left, y: top + 1, width: Math.max(1, x(stint[3] ?? end) - left),
        height: rowHeight - 2, fill: driverColour(stint[5]), class: "stint" });
      bar.append(svg("title", { text: `#${car.num} ${car.driverName(stint[5])}: laps ${stint[0]}–${stint[2]}` }));
      root.append(bar);
    }
  });
  // flag periods over the bars, translucent, so they show where they matter
  for (const period of Array.isArray(flagStats) ? flagStats : []) {
    const [flagValue, , from, , to] = period;
    const name = FLAGS[flagValue] || "none";
    if (flagValue < YELLOW || typeof from !== "number") continue;
    const left = x(Math.max(begin, from));
    root.append(svg("rect", { x: left, y: pad.top, width: Math.max(1, x(to ?? end) - left),
      height: height - pad.top - pad.bottom, class: `period flag-${name}` }));
  }
  root.append(svg("text", { x: pad.left, y: height - 6, class: "axis", text: formatClock(0) }),
    svg("text", { x: width - pad.right, y: height - 6, "text-anchor": "end", class: "axis",
      text: formatClock(end - begin) }));
  return root;
}
