/**
 * The recordings catalogue as the web app reaches it. The catalogue
 * (`livetiming.recordings.*`) and the downloads (`/recordings/<uuid>.zip`,
 * `.json`) live on the master only: relays forward neither. So the
 * recordings pages talk to the server the page came from — reusing the
 * app's connection when that is where it goes, else opening their own (a
 * master with relays sends the app's live connection to a relay). A page
 * served by a relay finds no catalogue and says so.
 */
import { el } from "./dom.js";
import { ownWebSocket } from "./relays.js";
import { WampClient } from "./wamp.js";

const UUID = /^[A-Za-z0-9_:-]{1,128}$/;

/** Local `YYYY-MM-DD HH:MM` of Unix seconds. */
export function formatDateTime(unixSeconds) {
  if (typeof unixSeconds !== "number" || !Number.isFinite(unixSeconds)) return "";
  const d = new Date(unixSeconds * 1000);
  const two = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

let styled = false;

/** The recordings pages' own stylesheet, added to the page once. */
export function addStyles() {
  if (styled) return;
  styled = true;
  document.head.append(el("link", { rel: "stylesheet", href: "css/replay.css" }));
}

export function isRecordingUuid(uuid) {
  return typeof uuid === "string" && UUID.test(uuid);
}

/** Where the master serves a recording's ZIP (`zip`) or analysis file (`json`). */
export function downloadUrl(uuid, kind = "zip") {
  return `/recordings/${encodeURIComponent(uuid)}.${kind === "json" ? "json" : "zip"}`;
}

export class Catalogue {
  constructor(client) {
    const own = ownWebSocket(window.location);
    if (client && client.url === own) {
      this.client = client;
      this.owned = false;
    } else {
      this.client = new WampClient(own).open();
      this.owned = true;
    }
  }

  async call(procedure, args = [], kwargs = {}) {
    await this.client.ready();
    const result = await this.client.call(procedure, args, kwargs);
    return result.args[0];
  }

  /** `{recordings, pages, total}`: 50 a page, newest first; `name` filters by exact name. */
  page(number = 1, name = null) {
    return this.call("livetiming.recordings.page", [number], name ? { filter_name: name } : {});
  }

  names() {
    return this.call("livetiming.recordings.names");
  }

  /** The catalogue's entry for `uuid`, looked up among the recordings called `name`. */
  async entry(uuid, name) {
    for (let number = 1; number <= 100; number++) {
      const page = await this.page(number, name);
      const found = (page.recordings || []).find((entry) => entry.uuid === uuid);
      if (found) return found;
      if (number >= (page.pages || 0)) return null;
    }
    return null;
  }

  close() {
    if (this.owned) this.client.close();
  }
}

/** A message for a failed catalogue call. */
export function catalogueProblem(error) {
  if (error && /no_such_procedure|no_such_registration/.test(error.uri || "")) {
    return "No recordings here: the catalogue is on the master. Open this page from the master's address.";
  }
  return `The catalogue did not answer (${(error && (error.uri || error.message)) || "unknown error"}).`;
}
