"""Canonical like-keras systems, each runnable on every transport."""
