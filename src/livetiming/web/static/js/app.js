/**
 * The app's shell: choose the server (least-loaded relay or this one), keep
 * one WAMP connection and the live directory, and show the page the URL's
 * hash names — `#/` services, `#/<uuid>` timing, `#/<uuid>/analysis`.
 */
import { mountAnalysis } from "./analysis.js";
import { Directory } from "./directory.js";
import { Metrics } from "./metrics.js";
import { chooseServer } from "./relays.js";
import { mountServices } from "./services.js";
import { loadSettings } from "./settings.js";
import { mountTiming } from "./timing.js";
import { WampClient } from "./wamp.js";

const UUID = /^[A-Za-z0-9_-]{1,64}$/;

/** The page a hash names: {page, uuid}. */
export function route(hash) {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  if (parts.length >= 1 && UUID.test(parts[0])) {
    return { page: parts[1] === "analysis" ? "analysis" : "timing", uuid: parts[0] };
  }
  return { page: "services", uuid: null };
}

async function main() {
  const main = document.getElementById("main");
  const status = document.getElementById("connection");
  const metrics = new Metrics();
  const url = await chooseServer(window.location);
  let current = null;

  const client = new WampClient(url, {
    onOpen: () => {
      status.textContent = "live";
      status.className = "connection live";
      directory.refresh();
      if (current && current.reconnected) current.reconnected();
    },
    onClose: () => {
      status.textContent = "reconnecting…";
      status.className = "connection down";
    },
  });
  const directory = new Directory(client).start();
  window.livetiming = { metrics, server: url, client, directory };

  function show() {
    if (current) current.destroy();
    main.replaceChildren();
    const { page, uuid } = route(window.location.hash);
    const context = { client, directory, settings: loadSettings(), metrics, uuid };
    const mount = { services: mountServices, timing: mountTiming, analysis: mountAnalysis }[page];
    current = mount(main, context);
    document.body.dataset.page = page;
    if (client.isOpen && current.reconnected) current.reconnected();
    window.scrollTo(0, 0);
  }

  window.addEventListener("hashchange", show);
  show();
  client.open();
}

main();
