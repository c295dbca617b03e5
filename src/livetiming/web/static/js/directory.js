/**
 * The live directory: the services announced on `livetiming.directory`
 * (retained, so a new page gets the listing at once) and, on every
 * (re)connection, `livetiming.directory.listServices`. Hidden services are
 * never listed, but their manifests are kept (asked for with
 * `includeHidden`) so that a direct link to one still works. Pages listen
 * for changes.
 */
import { MessageClass, topics, unwrap } from "./protocol.js";

export class Directory {
  constructor(client) {
    this.client = client;
    this.services = new Map();
    this.hidden = new Map();
    this.loaded = false;
    this.listeners = new Set();
  }

  start() {
    this.client.subscribe(topics.DIRECTORY, (args) => this._onListing(args[0]), { get_retained: true });
    return this;
  }

  /** Ask for the listing (called whenever the connection (re)opens). */
  refresh() {
    this.client.call(topics.LIST_SERVICES, [], { includeHidden: true }).then(
      (result) => this._replace(result.args[0], true),
      () => {}, // no directory yet: the retained topic fills in when it comes
    );
  }

  /** A live service's manifest, hidden or not, or null. */
  get(uuid) {
    return this.services.get(uuid) || this.hidden.get(uuid) || null;
  }

  list() {
    return [...this.services.values()];
  }

  listen(callback) {
    this.listeners.add(callback);
    return () => this.listeners.delete(callback);
  }

  _onListing(wrapper) {
    try {
      const { msgClass, payload } = unwrap(wrapper);
      if (msgClass === MessageClass.DIRECTORY_LISTING) this._replace(payload);
    } catch (e) {
      /* a malformed listing is ignored; the next one replaces it */
    }
  }

  /** A new listing; `withHidden` when it was asked for with hidden services. */
  _replace(manifests, withHidden = false) {
    if (!Array.isArray(manifests)) return;
    const services = new Map();
    const hidden = new Map();
    for (const manifest of manifests) {
      if (manifest && typeof manifest.uuid === "string") (manifest.hidden ? hidden : services).set(manifest.uuid, manifest);
    }
    this.services = services;
    // the public listing never has hidden services: keep those we were told of
    if (withHidden) this.hidden = hidden;
    this.loaded = true;
    for (const callback of this.listeners) callback(this);
  }
}
