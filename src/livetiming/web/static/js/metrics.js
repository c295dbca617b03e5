/**
 * What the page measures about itself, for the tests and the benchmark
 * (`window.livetiming.metrics`): per drawn update its wrapper date, when it
 * arrived and when it was drawn (ms since the epoch), and the decode and
 * render cost (ms); when the first table was drawn; and the state on screen
 * (`shown`), so a test can hold the table against what it was drawn from.
 */
const KEEP = 5000;

export class Metrics {
  constructor() {
    this.updates = [];
    this.firstTableAt = null;
    this.firstTablePerf = null;
    this.shown = null;
  }

  record(entry) {
    if (this.firstTableAt === null && entry.cars > 0) {
      this.firstTableAt = entry.shownAt;
      this.firstTablePerf = performance.now();
    }
    this.updates.push(entry);
    if (this.updates.length > KEEP) this.updates.splice(0, this.updates.length - KEEP);
  }
}
