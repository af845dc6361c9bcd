"""One package per outside system; each holds its client and a faithful simulator."""
