"""The per-node runtime: the semantics every transport shares, hosted in every process."""
