/**
 * The home page: the live directory as cards (name, description, service
 * class, source), redrawn as services come and go.
 */
import { el, safeLink } from "./dom.js";
import { decodeEntities } from "./format.js";

export function mountServices(container, { directory }) {
  const list = el("div", { class: "cards", id: "services" });
  const status = el("p", { class: "muted", id: "services-status", text: "Looking for live services…" });
  container.append(el("h1", { text: "Live timing" }), status, list);

  function card(manifest) {
    const source = Array.isArray(manifest.source) && manifest.source[0]
      ? el("p", { class: "source" }, "Source: ", safeLink(manifest.source[1], decodeEntities(manifest.source[0])))
      : null;
    return el("a", { class: "card", href: `#/${manifest.uuid}`, "data-uuid": manifest.uuid },
      el("h2", { text: manifest.name || "(unnamed)" }),
      el("p", { class: "description", text: manifest.description || "" }),
      el("p", { class: "service-class muted", text: manifest.serviceClass || "" }),
      source);
  }

  function draw() {
    const services = directory.list().sort((a, b) => String(a.name).localeCompare(String(b.name)));
    list.replaceChildren(...services.map(card));
    if (services.length) status.textContent = `${services.length} live service${services.length === 1 ? "" : "s"}`;
    else status.textContent = directory.loaded ? "No live services at the moment." : "Looking for live services…";
  }

  const stop = directory.listen(draw);
  draw();
  return { destroy: stop };
}
