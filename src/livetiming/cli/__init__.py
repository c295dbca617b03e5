"""Command-line shells: parse options, set up logging, run the reactor."""
