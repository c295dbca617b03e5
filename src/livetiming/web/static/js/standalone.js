/**
 * A standalone service (protocol §8) seen through the WampClient interface,
 * so the same pages show it: a plain WebSocket of `[topic, wrapper]` frames
 * (manifest on `livetiming.control`, then state and analysis), no router.
 * The last message of each topic is kept and replayed as "retained" on
 * subscription; the directory listing is the service's manifest; the
 * procedures the pages call are answered from what was received. It
 * reconnects like the WAMP client. Opened with `?standalone=ws://host:port`.
 */
import { mergeKey } from "./analysis.js";
import { MessageClass, topics, unwrap } from "./protocol.js";
import { WampError, backoffDelay } from "./wamp.js";

const CONTROL = "livetiming.control";
const ANALYSIS = "livetiming.analysis/";

function matches(subscription, topic) {
  return subscription.options.match === "prefix" ? topic.startsWith(subscription.topic) : topic === subscription.topic;
}

export class StandaloneClient {
  constructor(url, options = {}) {
    this.url = url;
    this.WebSocket = options.WebSocket || globalThis.WebSocket;
    this.onOpen = options.onOpen || (() => {});
    this.onClose = options.onClose || (() => {});
    this.backoff = options.backoff || backoffDelay;
    this.socket = null;
    this.isOpen = false;
    this.closing = false;
    this.attempt = 0;
    this.retained = new Map(); // topic -> last wrapper
    this.subscriptions = new Set();
    this.manifest = null;
    this.waiters = [];
  }

  open() {
    this.closing = false;
    this._connect();
    return this;
  }

  ready() {
    return this.isOpen ? Promise.resolve(0) : new Promise((resolve) => this.waiters.push(resolve));
  }

  close() {
    this.closing = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000);
  }

  subscribe(topic, handler, options = {}) {
    const subscription = { topic, options, handler, active: true,
      unsubscribe: () => { subscription.active = false; this.subscriptions.delete(subscription); } };
    this.subscriptions.add(subscription);
    if (options.get_retained) {
      const replay = [...this.retained].filter(([name]) => matches(subscription, name));
      Promise.resolve().then(() => {
        for (const [name, wrapper] of replay) {
          if (subscription.active) handler([wrapper], {}, { topic: name, retained: true });
        }
      });
    }
    return Promise.resolve(subscription);
  }

  call(procedure, args = [], kwargs = {}) {
    const uuid = this.manifest && this.manifest.uuid;
    if (procedure === topics.LIST_SERVICES) {
      const hidden = this.manifest && this.manifest.hidden && !kwargs.includeHidden;
      return Promise.resolve({ args: [this.manifest && !hidden ? [this.manifest] : []], kwargs: {} });
    }
    if (uuid && procedure === topics.requestState(uuid)) {
      const wrapper = this.retained.get(topics.state(uuid));
      return Promise.resolve({ args: [wrapper ? unwrap(wrapper).payload : {}], kwargs: {} });
    }
    if (uuid && procedure === topics.requestAnalysis(uuid)) return Promise.resolve({ args: [this._analysis()], kwargs: {} });
    return Promise.reject(new WampError("wamp.error.no_such_procedure", [procedure]));
  }

  _analysis() {
    const data = {};
    const prefix = topics.analysisPrefix(this.manifest.uuid);
    for (const [name, wrapper] of this.retained) {
      if (name.startsWith(prefix)) mergeKey(data, name.slice(prefix.length), unwrap(wrapper).payload);
    }
    return data;
  }

  _connect() {
    let socket;
    try {
      socket = new this.WebSocket(this.url);
    } catch (e) {
      this._lost();
      return;
    }
    this.socket = socket;
    // "open" once the manifest (sent first to every new client) is here
    socket.onopen = () => {
      this.attempt = 0;
    };
    socket.onmessage = (event) => this._receive(event.data);
    socket.onclose = () => {
      if (this.socket === socket) this._lost();
    };
    socket.onerror = () => {};
  }

  _lost() {
    const was = this.isOpen;
    this.socket = null;
    this.isOpen = false;
    if (was) this.onClose("connection lost");
    if (!this.closing) this.timer = setTimeout(() => this._connect(), this.backoff(this.attempt++));
  }

  _receive(data) {
    let topic;
    let wrapper;
    try {
      [topic, wrapper] = JSON.parse(data);
    } catch (e) {
      return;
    }
    if (typeof topic !== "string" || !wrapper || typeof wrapper !== "object") return;
    if (topic === CONTROL) {
      if (wrapper.msgClass !== MessageClass.SERVICE_REGISTRATION || !wrapper.payload) return;
      this.manifest = wrapper.payload;
      if (!this.isOpen) {
        this.isOpen = true;
        this.waiters.splice(0).forEach((resolve) => resolve(0));
        Promise.resolve().then(() => this.onOpen({}));
      }
      // the directory of a standalone service is that service
      topic = topics.DIRECTORY;
      wrapper = { msgClass: MessageClass.DIRECTORY_LISTING, date: wrapper.date, payload: [this.manifest] };
    }
    // per-car analysis keys are kept each under its own topic, so all of them replay
    if (topic.startsWith(ANALYSIS) || topic === topics.DIRECTORY || topic.startsWith("livetiming.service.")) {
      this.retained.set(topic, wrapper);
    }
    for (const subscription of [...this.subscriptions]) {
      if (subscription.active && matches(subscription, topic)) {
        try {
          subscription.handler([wrapper], {}, { topic });
        } catch (e) {
          console.error(e); // eslint-disable-line no-console
        }
      }
    }
  }
}
