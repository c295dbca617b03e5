/**
 * The live directory: the services announced on `livetiming.directory`
 * (retained, so a new page gets the listing at once) and, on every
 * (re)connection, `livetiming.directory.listServices`. Hidden services are
 * never listed. Pages listen for changes.
 */
import { MessageClass, topics, unwrap } from "./protocol.js";

export class Directory {
  constructor(client) {
    this.client = client;
    this.services = new Map();
    this.loaded = false;
    this.listeners = new Set();
  }

  start() {
    this.client.subscribe(topics.DIRECTORY, (args) => this._onListing(args[0]), { get_retained: true });
    return this;
  }

  /** Ask for the listing (called whenever the connection (re)opens). */
  refresh() {
    this.client.call(topics.LIST_SERVICES).then(
      (result) => this._replace(result.args[0]),
      () => {}, // no directory yet: the retained topic fills in when it comes
    );
  }

  get(uuid) {
    return this.services.get(uuid) || null;
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

  _replace(manifests) {
    if (!Array.isArray(manifests)) return;
    const services = new Map();
    for (const manifest of manifests) {
      if (manifest && typeof manifest.uuid === "string" && !manifest.hidden) services.set(manifest.uuid, manifest);
    }
    this.services = services;
    this.loaded = true;
    for (const callback of this.listeners) callback(this);
  }
}
