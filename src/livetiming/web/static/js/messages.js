/**
 * The messages panel: the state's messages, newest first (as the service
 * sends them), each styled by its type (pit, out, pb, sb, flags, race
 * control). Redrawn only when the newest message changes.
 */
import { el } from "./dom.js";
import { formatTimeOfDay } from "./format.js";

export class MessagesPanel {
  constructor() {
    this.list = el("ol", { class: "messages", id: "messages" });
    this.element = el("section", { class: "panel" }, el("h2", { text: "Messages" }), this.list);
    this.signature = null;
  }

  update(messages) {
    const list = Array.isArray(messages) ? messages.filter(Array.isArray) : [];
    const signature = list.length ? JSON.stringify(list[0]) + list.length : "";
    if (signature === this.signature) return;
    this.signature = signature;
    this.list.replaceChildren(...list.map((message) => {
      const [time, category, text, style] = message;
      const kind = typeof style === "string" && style ? style.replace(/[^a-z0-9-]/gi, "") : "plain";
      return el("li", { class: `msg msg-${kind}` },
        el("time", { text: formatTimeOfDay(time) }),
        el("span", { class: "category", text: category ?? "" }),
        el("span", { class: "text", text: text ?? "" }));
    }));
  }
}
