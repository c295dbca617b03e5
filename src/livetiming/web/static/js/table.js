/**
 * The timing table, driven by the manifest's column spec. Rows and cells are
 * made once and then only their text and classes change, so a 60-car update
 * touches the DOM only where something changed (the page's render budget is
 * a few milliseconds).
 */
import { el } from "./dom.js";
import { cellParts, classColour, formatDelta, formatNumeric, formatTime } from "./format.js";

const FORMATTERS = { time: formatTime, delta: formatDelta, numeric: formatNumeric };
const TIME_FLAGS = new Set(["pb", "sb", "sb-new", "old"]);
const KNOWN_STATES = new Set(["RUN", "PIT", "OUT", "FUEL", "STOP", "RET", "FIN", "N/S"]);

/** Columns of a colSpec: [{index, heading, type, description}]. */
export function columnsOf(colSpec) {
  return (Array.isArray(colSpec) ? colSpec : []).map((spec, index) => {
    const [heading, type, description] = Array.isArray(spec) ? spec : [String(spec), "text"];
    return { index, heading: String(heading), type: String(type || "text"), description: description || "" };
  });
}

function stateClass(value) {
  const state = String(value ?? "").toUpperCase();
  return KNOWN_STATES.has(state) ? `state-${state.replace("/", "")}` : "";
}

function flagClass(flag) {
  if (!flag) return "";
  if (TIME_FLAGS.has(flag)) return `t-${flag}`;
  return `f-${flag.replace(/[^a-z0-9-]/gi, "")}`;
}

export class TimingTable {
  constructor(onRowClick) {
    this.onRowClick = onRowClick;
    this.head = el("thead");
    this.pinned = el("tbody", { class: "pinned" });
    this.body = el("tbody");
    this.element = el("table", { class: "timing", id: "timing-table" }, this.head, this.pinned, this.body);
    this.columns = [];
    this.visible = [];
    this.rows = [];
    this.pinnedRow = null;
    this.numIndex = 0;
    this.stateIndex = -1;
  }

  /** (Re)build the header for `colSpec` without the `hidden` headings. */
  setColumns(colSpec, hidden = []) {
    this.columns = columnsOf(colSpec);
    const hiddenSet = new Set(hidden);
    this.visible = this.columns.filter((column) => !hiddenSet.has(column.heading));
    const num = this.columns.find((column) => column.heading === "Num");
    this.numIndex = num ? num.index : 0;
    const state = this.columns.find((column) => column.heading === "State");
    this.stateIndex = state ? state.index : -1;
    this.head.replaceChildren(el("tr", {}, this.visible.map((column) =>
      el("th", { class: `c-${column.type}`, title: column.description || null, scope: "col", text: column.heading }))));
    this.body.replaceChildren();
    this.pinned.replaceChildren();
    this.pinnedRow = null;
    this.rows = [];
  }

  /** Show `cars` (classification order), flash `highlight`, pin `focus`. */
  update(cars, highlight = [], focus = null) {
    const list = Array.isArray(cars) ? cars : [];
    while (this.rows.length < list.length) this.rows.push(this._makeRow(this.body));
    while (this.rows.length > list.length) this.rows.pop().tr.remove();
    const flashing = new Set(Array.isArray(highlight) ? highlight.map(String) : []);
    let focused = null;
    list.forEach((car, position) => {
      const num = String(Array.isArray(car) ? car[this.numIndex] ?? "" : "");
      this._fill(this.rows[position], car, num, flashing.has(num), num === focus);
      if (num === focus) focused = car;
    });
    this._pin(focused, focus);
  }

  _makeRow(parent) {
    const tr = el("tr");
    const cells = this.visible.map((column) => el("td", { class: `c-${column.type}` }));
    tr.append(...cells);
    tr.addEventListener("click", () => this.onRowClick && this.onRowClick(tr.dataset.car));
    parent.append(tr);
    return { tr, cells, texts: cells.map(() => ""), classes: cells.map(() => ""), rowClass: "" };
  }

  _fill(row, car, num, flash, focused) {
    if (row.tr.dataset.car !== num) row.tr.dataset.car = num;
    const cells = Array.isArray(car) ? car : [];
    this.visible.forEach((column, i) => {
      const [value, flag] = cellParts(cells[column.index]);
      const format = FORMATTERS[column.type];
      const text = format ? format(value) : value === null || value === undefined ? "" : String(value);
      let className = `c-${column.type}`;
      if (flag) className += ` ${flagClass(flag)}`;
      if (text !== row.texts[i]) {
        row.cells[i].textContent = text;
        row.texts[i] = text;
      }
      if (column.type === "class" && text) className += " cls";
      if (className !== row.classes[i]) {
        row.cells[i].className = className;
        row.classes[i] = className;
      }
      if (column.type === "class" && row.cells[i].dataset.cls !== text) {
        row.cells[i].dataset.cls = text;
        row.cells[i].style.setProperty("--class-colour", text ? classColour(text) : "transparent");
      }
    });
    let rowClass = this.stateIndex >= 0 ? stateClass(cellParts(cells[this.stateIndex])[0]) : "";
    if (focused) rowClass += " focus";
    // two identical animations under two names: switching names restarts it,
    // keeping the name (no new highlight) leaves the finished one alone
    const current = (row.rowClass.match(/flash-[ab]/) || [""])[0];
    if (flash) rowClass += current === "flash-a" ? " flash-b" : " flash-a";
    else if (current) rowClass += ` ${current}`;
    rowClass = rowClass.trim();
    if (rowClass !== row.rowClass) {
      row.tr.className = rowClass;
      row.rowClass = rowClass;
    }
  }

  _pin(car, num) {
    if (!car) {
      if (this.pinned.firstChild) this.pinned.replaceChildren();
      this.pinnedRow = null;
      return;
    }
    if (!this.pinnedRow) this.pinnedRow = this._makeRow(this.pinned);
    this._fill(this.pinnedRow, car, num, false, true);
  }
}
