"""What a terminal shows of a live timing service, as pure functions of the
state, the manifest and the terminal's size (no I/O, no clock of their
own), so that every cell can be checked in tests:

* `format` — cell texts (`m:ss.sss` times, deltas, durations);
* `styles` — the colours: time flags, car states, classes, flags, messages;
* `model` — the timing table as rows of (text, style) cells, the header,
  the messages; which columns fit a width;
* `render` — the model as a rich renderable;
* `delay` — holding states back by N seconds (to match a TV feed);
* `choose` — which service to watch from a directory listing."""
