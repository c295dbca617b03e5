/**
 * Holds updates back by a number of seconds, so the screen matches a TV feed
 * that runs behind live. Each update is released `delay` seconds after it
 * arrived, in arrival order; with no delay it is released at once. Changing
 * the delay reschedules what is waiting (a shorter delay releases at once
 * what is now due).
 */
export class DelayBuffer {
  constructor(release, now = () => Date.now()) {
    this.release = release;
    this.now = now;
    this.delayMs = 0;
    this.queue = [];
    this.timer = null;
  }

  setDelay(seconds) {
    this.delayMs = Math.max(0, seconds) * 1000;
    this._schedule();
  }

  push(item) {
    this.queue.push({ item, at: this.now() });
    this._schedule();
  }

  /** Updates waiting to be shown. */
  get waiting() {
    return this.queue.length;
  }

  stop() {
    clearTimeout(this.timer);
    this.queue = [];
  }

  _schedule() {
    clearTimeout(this.timer);
    this.timer = null;
    const now = this.now();
    let due = null;
    while (this.queue.length && this.queue[0].at + this.delayMs <= now) due = this.queue.shift();
    if (due) {
      // only the newest due state matters; older ones are superseded
      this.release(due.item, due.at);
    }
    if (this.queue.length) {
      const wait = Math.max(0, this.queue[0].at + this.delayMs - this.now());
      this.timer = setTimeout(() => this._schedule(), wait);
    }
  }
}
