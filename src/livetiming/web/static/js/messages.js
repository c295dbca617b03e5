/**
 * The messages panel: the state's messages, newest first (as the service
 * sends them), each styled by its type (pit, out, pb, sb, flags, race
 * control). Each update usually brings a few new messages on top of the
 * previous ones: those are prepended and the oldest dropped, rather than
 * the whole list redrawn; anything else (a new session, a resumed service)
 * redraws it.
 */
import { el } from "./dom.js";
import { formatTimeOfDay } from "./format.js";

function key(message) {
  return JSON.stringify(message);
}

function item(message) {
  const [time, category, text, style] = message;
  const kind = typeof style === "string" && style ? style.replace(/[^a-z0-9-]/gi, "") : "plain";
  return el("li", { class: `msg msg-${kind}` },
    el("time", { text: formatTimeOfDay(time) }),
    el("span", { class: "category", text: category ?? "" }),
    el("span", { class: "text", text: text ?? "" }));
}

export class MessagesPanel {
  constructor() {
    this.list = el("ol", { class: "messages", id: "messages" });
    this.element = el("section", { class: "panel" }, el("h2", { text: "Messages" }), this.list);
    this.keys = []; // keys of the messages shown, newest first
  }

  update(messages) {
    const list = Array.isArray(messages) ? messages.filter(Array.isArray) : [];
    const keys = list.map(key);
    if (keys.length === this.keys.length && keys[0] === this.keys[0]) return;
    const fresh = this.keys.length ? keys.indexOf(this.keys[0]) : -1;
    if (fresh > 0 && keys.slice(fresh).every((k, i) => k === this.keys[i])) {
      this.list.prepend(...list.slice(0, fresh).map(item));
      while (this.list.children.length > list.length) this.list.lastElementChild.remove();
    } else {
      this.list.replaceChildren(...list.map(item));
    }
    this.keys = keys;
  }
}
