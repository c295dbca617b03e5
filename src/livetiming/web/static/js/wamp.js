/**
 * A small WAMP v2 client (JSON serializer, subprotocol `wamp.2.json`) for the
 * public side of the network: anonymous HELLO, SUBSCRIBE (with Crossbar's
 * `get_retained` and prefix matching), EVENT, CALL/RESULT/ERROR, GOODBYE.
 * It is all the app needs from WAMP, so the page carries no library.
 *
 * The connection keeps itself up: when the socket closes (or never opens) it
 * reconnects after a growing, jittered delay, joins again and re-subscribes
 * every live subscription, so callers subscribe once. Calls in flight when
 * the socket drops fail (the caller decides whether to retry).
 */

export const MSG = Object.freeze({
  HELLO: 1, WELCOME: 2, ABORT: 3, GOODBYE: 6, ERROR: 8,
  SUBSCRIBE: 32, SUBSCRIBED: 33, UNSUBSCRIBE: 34, UNSUBSCRIBED: 35, EVENT: 36,
  CALL: 48, RESULT: 50,
});

const ROLES = {
  subscriber: { features: { pattern_based_subscription: true } },
  caller: { features: {} },
};

/** Delays between attempts: 0.5 s doubling to at most 30 s, each +-25 %. */
export function backoffDelay(attempt, { initial = 500, max = 30000, random = Math.random } = {}) {
  const base = Math.min(max, initial * 2 ** attempt);
  return Math.round(base * (0.75 + random() * 0.5));
}

/** An ERROR answer to a CALL (or a call lost with its connection). */
export class WampError extends Error {
  constructor(uri, args = [], kwargs = {}) {
    super(args.length && typeof args[0] === "string" ? `${uri}: ${args[0]}` : uri);
    this.uri = uri;
    this.args = args;
    this.kwargs = kwargs;
  }
}

/**
 * One subscription as the caller sees it: it survives reconnections (its
 * router-side id changes each time). `unsubscribe()` ends it.
 */
class Subscription {
  constructor(client, topic, options, handler) {
    this.client = client;
    this.topic = topic;
    this.options = options;
    this.handler = handler;
    this.id = null;
    this.active = true;
  }

  unsubscribe() {
    this.client._unsubscribe(this);
  }
}

export class WampClient {
  /**
   * @param {string} url  ws:// or wss:// URL of the router's WebSocket
   * @param {object} options  realm (default "timing"), WebSocket (constructor,
   *   default the global one), onOpen(details) / onClose(reason) callbacks,
   *   backoff (function attempt -> ms).
   */
  constructor(url, options = {}) {
    this.url = url;
    this.realm = options.realm || "timing";
    this.WebSocket = options.WebSocket || globalThis.WebSocket;
    this.onOpen = options.onOpen || (() => {});
    this.onClose = options.onClose || (() => {});
    this.backoff = options.backoff || backoffDelay;
    this.socket = null;
    this.sessionId = null;
    this.nextRequest = 1;
    this.pending = new Map(); // request id -> {resolve, reject, kind, subscription?}
    this.subscriptions = new Set();
    this.byId = new Map(); // router subscription id -> Set<Subscription>
    this.attempt = 0;
    this.retryTimer = null;
    this.closing = false;
    this.readyWaiters = [];
  }

  /** Open the connection (and keep it open until close()). */
  open() {
    this.closing = false;
    this._connect();
    return this;
  }

  /** Resolves once joined to the realm (at once when already joined). */
  ready() {
    if (this.sessionId !== null) return Promise.resolve(this.sessionId);
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  get isOpen() {
    return this.sessionId !== null;
  }

  /** Leave the realm politely and stop reconnecting. */
  close() {
    this.closing = true;
    clearTimeout(this.retryTimer);
    const socket = this.socket;
    if (!socket) return;
    if (this.sessionId !== null && socket.readyState === 1) {
      this._send([MSG.GOODBYE, {}, "wamp.close.normal"]);
    }
    try {
      socket.close(1000);
    } catch (e) {
      /* already closing */
    }
  }

  /**
   * Subscribe `handler(args, kwargs, details)` to `topic`. Options are sent
   * as they are: `{match: "prefix"}`, `{get_retained: true}`. Resolves to a
   * Subscription once the router confirmed it (or at once while offline: it
   * is made when the connection is back).
   */
  subscribe(topic, handler, options = {}) {
    const subscription = new Subscription(this, topic, options, handler);
    this.subscriptions.add(subscription);
    if (this.sessionId === null) return Promise.resolve(subscription);
    return this._sendSubscribe(subscription).then(() => subscription);
  }

  /** Call `procedure`; resolves to {args, kwargs}, rejects with WampError. */
  call(procedure, args = [], kwargs = {}, options = {}) {
    if (this.sessionId === null) {
      return Promise.reject(new WampError("wamp.error.not_connected"));
    }
    const request = this.nextRequest++;
    return new Promise((resolve, reject) => {
      this.pending.set(request, { kind: MSG.CALL, resolve, reject });
      this._send([MSG.CALL, request, options, procedure, args, kwargs]);
    });
  }

  // --- connection ------------------------------------------------------------

  _connect() {
    let socket;
    try {
      socket = new this.WebSocket(this.url, ["wamp.2.json"]);
    } catch (e) {
      this._lost(String(e));
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this._send([MSG.HELLO, this.realm, { roles: ROLES, authmethods: ["anonymous"] }]);
    };
    socket.onmessage = (event) => this._receive(event.data);
    socket.onclose = (event) => {
      if (this.socket === socket) this._lost(event.reason || `closed (${event.code})`);
    };
    socket.onerror = () => {
      /* a close event follows */
    };
  }

  _lost(reason) {
    const wasJoined = this.sessionId !== null;
    this.socket = null;
    this.sessionId = null;
    this.byId.clear();
    for (const subscription of this.subscriptions) subscription.id = null;
    for (const [, waiter] of this.pending) {
      waiter.reject(new WampError("wamp.error.connection_lost", [reason]));
    }
    this.pending.clear();
    if (wasJoined) this.onClose(reason);
    if (this.closing) return;
    const delay = this.backoff(this.attempt++);
    this.retryTimer = setTimeout(() => this._connect(), delay);
  }

  _send(message) {
    this.socket.send(JSON.stringify(message));
  }

  _receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch (e) {
      this._protocolError("invalid JSON");
      return;
    }
    if (!Array.isArray(message)) {
      this._protocolError("message is not a list");
      return;
    }
    switch (message[0]) {
      case MSG.WELCOME:
        return this._welcome(message[1], message[2] || {});
      case MSG.ABORT:
        this.onClose(`abort: ${message[2]}`);
        return this.socket && this.socket.close(1000);
      case MSG.GOODBYE:
        if (!this.closing) this._send([MSG.GOODBYE, {}, "wamp.close.goodbye_and_out"]);
        return this.socket && this.socket.close(1000);
      case MSG.EVENT:
        return this._event(message[1], message[3] || {}, message[4] || [], message[5] || {});
      case MSG.SUBSCRIBED:
      case MSG.UNSUBSCRIBED:
      case MSG.RESULT:
        return this._answer(message);
      case MSG.ERROR:
        return this._error(message);
      default:
        return undefined; // unknown messages are ignored
    }
  }

  _protocolError(reason) {
    if (this.socket) this.socket.close(1002, reason);
  }

  _welcome(sessionId, details) {
    this.sessionId = sessionId;
    this.attempt = 0;
    for (const subscription of this.subscriptions) {
      this._sendSubscribe(subscription).catch(() => {});
    }
    const waiters = this.readyWaiters.splice(0);
    for (const resolve of waiters) resolve(sessionId);
    this.onOpen(details);
  }

  _sendSubscribe(subscription) {
    const request = this.nextRequest++;
    return new Promise((resolve, reject) => {
      this.pending.set(request, { kind: MSG.SUBSCRIBE, subscription, resolve, reject });
      this._send([MSG.SUBSCRIBE, request, subscription.options, subscription.topic]);
    });
  }

  _unsubscribe(subscription) {
    if (!subscription.active) return;
    subscription.active = false;
    this.subscriptions.delete(subscription);
    const id = subscription.id;
    if (id === null) return;
    const sharing = this.byId.get(id);
    sharing.delete(subscription);
    if (sharing.size > 0 || this.sessionId === null) return;
    this.byId.delete(id);
    const request = this.nextRequest++;
    this.pending.set(request, { kind: MSG.UNSUBSCRIBE, resolve: () => {}, reject: () => {} });
    this._send([MSG.UNSUBSCRIBE, request, id]);
  }

  _answer(message) {
    const waiter = this.pending.get(message[1]);
    if (!waiter) return;
    this.pending.delete(message[1]);
    if (message[0] === MSG.SUBSCRIBED) {
      const subscription = waiter.subscription;
      const id = message[2];
      if (!subscription.active) {
        // unsubscribed while the request was in flight
        if (!this.byId.has(id)) this._send([MSG.UNSUBSCRIBE, this.nextRequest++, id]);
      } else {
        subscription.id = id;
        if (!this.byId.has(id)) this.byId.set(id, new Set());
        this.byId.get(id).add(subscription);
      }
      waiter.resolve(id);
    } else if (message[0] === MSG.RESULT) {
      waiter.resolve({ args: message[3] || [], kwargs: message[4] || {} });
    } else {
      waiter.resolve();
    }
  }

  _error(message) {
    const waiter = this.pending.get(message[2]);
    if (!waiter) return;
    this.pending.delete(message[2]);
    if (waiter.subscription) this.subscriptions.delete(waiter.subscription);
    waiter.reject(new WampError(message[4], message[5] || [], message[6] || {}));
  }

  _event(id, details, args, kwargs) {
    const sharing = this.byId.get(id);
    if (!sharing) return;
    for (const subscription of sharing) {
      try {
        subscription.handler(args, kwargs, details);
      } catch (e) {
        // one failing handler must not stop the others nor the connection
        console.error(e); // eslint-disable-line no-console
      }
    }
  }
}
