/**
 * The recordings page (`#/recordings`): the master's catalogue, newest
 * first, 50 a page, filtered by name; for each recording its name (a link
 * to the player, `#/recordings/<uuid>`), description, start time, duration,
 * whether it has an analysis, and download links for the ZIP and the
 * analysis file (served by the master at `/recordings/<uuid>.zip|.json`).
 */
import { Catalogue, addStyles, catalogueProblem, downloadUrl, formatDateTime, isRecordingUuid } from "./catalogue.js";
import { el } from "./dom.js";
import { formatClock } from "./format.js";
import { openLocalFile } from "./player.js";

export function mountRecordings(container, { client }) {
  addStyles();
  const catalogue = new Catalogue(client);
  const status = el("p", { class: "muted", id: "recordings-status", text: "Loading the recordings…" });
  const filter = el("select", { id: "recordings-filter" }, el("option", { value: "", text: "All recordings" }));
  const previous = el("button", { type: "button", id: "recordings-previous", text: "◂ Newer", disabled: true });
  const next = el("button", { type: "button", id: "recordings-next", text: "Older ▸", disabled: true });
  const pageInfo = el("span", { id: "recordings-page", class: "muted" });
  const fileInput = el("input", { type: "file", id: "recording-file", accept: ".zip,application/zip" });
  fileInput.addEventListener("change", () => { if (fileInput.files[0]) openLocalFile(fileInput.files[0]); });
  const body = el("tbody");
  const table = el("table", { class: "recordings", id: "recordings" },
    el("thead", {}, el("tr", {}, ["Name", "Description", "Start", "Duration", "Analysis", "Download"]
      .map((heading) => el("th", { text: heading })))),
    body);
  container.append(
    el("header", { class: "service-header" },
      el("nav", {}, el("a", { href: "#/", class: "nav", text: "◂ Services" })),
      el("h1", { text: "Recordings" }), status),
    el("p", { class: "recordings-controls" }, el("label", {}, "Name ", filter), " ", previous, " ", pageInfo, " ", next),
    el("div", { class: "table-wrap" }, table),
    el("p", { class: "muted local-file" }, el("label", {}, "Play a recording file from this computer: ", fileInput)));

  let number = 1;
  let pages = 0;
  let destroyed = false;
  let request = 0;

  function row(entry) {
    const uuid = String(entry.uuid);
    const valid = isRecordingUuid(uuid);
    return el("tr", { "data-uuid": uuid, class: "recording" },
      el("td", {}, valid ? el("a", { href: `#/recordings/${uuid}`, class: "recording-name", text: entry.name || "(unnamed)" })
        : entry.name || ""),
      el("td", { class: "description", text: entry.description || "" }),
      el("td", { class: "start", text: formatDateTime(entry.startTime) }),
      el("td", { class: "duration", text: formatClock(entry.duration) }),
      el("td", { class: "has-analysis", text: entry.hasAnalysis ? "yes" : "–" }),
      el("td", { class: "downloads" },
        valid ? el("a", { href: downloadUrl(uuid, "zip"), class: "download-zip", download: "", text: "ZIP" }) : null,
        valid && entry.hasAnalysis ? [" ", el("a", { href: downloadUrl(uuid, "json"), class: "download-analysis",
          download: "", text: "Analysis" })] : null));
  }

  async function load() {
    const mine = ++request;
    status.textContent = "Loading the recordings…";
    try {
      const answer = await catalogue.page(number, filter.value || null);
      if (destroyed || mine !== request) return;
      const recordings = Array.isArray(answer.recordings) ? answer.recordings : [];
      pages = answer.pages || 0;
      body.replaceChildren(...recordings.map(row));
      status.textContent = answer.total ? `${answer.total} recording${answer.total === 1 ? "" : "s"}`
        : "No recordings yet.";
      pageInfo.textContent = pages ? `page ${number} of ${pages}` : "";
      previous.disabled = number <= 1;
      next.disabled = number >= pages;
    } catch (error) {
      if (!destroyed && mine === request) status.textContent = catalogueProblem(error);
    }
  }

  async function loadNames() {
    try {
      const names = await catalogue.names();
      if (destroyed || !Array.isArray(names)) return;
      const chosen = filter.value;
      filter.replaceChildren(el("option", { value: "", text: "All recordings" }),
        ...names.map((name) => el("option", { value: String(name), text: String(name) })));
      filter.value = chosen;
    } catch (error) {
      /* the page's status says what went wrong */
    }
  }

  filter.addEventListener("change", () => { number = 1; load(); });
  previous.addEventListener("click", () => { if (number > 1) { number -= 1; load(); } });
  next.addEventListener("click", () => { if (number < pages) { number += 1; load(); } });
  load();
  loadNames();

  return {
    destroy() {
      destroyed = true;
      catalogue.close();
    },
  };
}
