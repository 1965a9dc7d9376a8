"""What the multi-process transports share: run options, the run directory, supervision,
rebuilding a system in a node process, the stop-and-drain protocol and flow-control credits."""
