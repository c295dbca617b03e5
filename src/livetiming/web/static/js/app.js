/**
 * The app's shell: choose the server (least-loaded relay or this one, or a
 * standalone service named by `?standalone=ws://host:port`), keep one
 * connection and the live directory, and show the page the URL's hash
 * names — `#/` services, `#/<uuid>` timing, `#/<uuid>/analysis`.
 */
import { mountAnalysis } from "./analysis.js";
import { Directory } from "./directory.js";
import { Metrics } from "./metrics.js";
import { mountPlayer } from "./player.js";
import { mountRecordings } from "./recordings.js";
import { chooseServer } from "./relays.js";
import { route } from "./routes.js";
import { mountServices } from "./services.js";
import { loadSettings } from "./settings.js";
import { StandaloneClient } from "./standalone.js";
import { mountTiming } from "./timing.js";
import { WampClient } from "./wamp.js";

async function main() {
  const container = document.getElementById("main");
  const status = document.getElementById("connection");
  const metrics = new Metrics();
  // `?standalone=ws://host:port`: one standalone service, no router
  const standalone = new URLSearchParams(window.location.search).get("standalone");
  const url = standalone && /^wss?:\/\//.test(standalone) ? standalone : await chooseServer(window.location);
  let current = null;

  const Client = url === standalone ? StandaloneClient : WampClient;
  const client = new Client(url, {
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
    container.replaceChildren();
    const { page, uuid } = route(window.location.hash);
    const context = { client, directory, settings: loadSettings(), metrics, uuid };
    const mount = { services: mountServices, timing: mountTiming, analysis: mountAnalysis,
      recordings: mountRecordings, replay: mountPlayer }[page];
    current = mount(container, context);
    document.body.dataset.page = page;
    if (client.isOpen && current.reconnected) current.reconnected();
    window.scrollTo(0, 0);
  }

  window.addEventListener("hashchange", show);
  show();
  client.open();
}

main();
