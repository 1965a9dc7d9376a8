"""Machines: where ``Node(machine=...)`` runs, named by an ssh destination.

A machine is ``[user@]host[:port]`` or a Host alias of the user's OpenSSH config, so keys,
ports and jump hosts are set the way ssh users already set them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from like_keras.errors import TransportError
from like_keras.graph.ir import SystemGraph

_DESTINATION = re.compile(r"(?:(?P<user>[^@\s:/]+)@)?(?P<host>[^@\s:/]+)(?::(?P<port>\d{1,5}))?\Z")


@dataclass(frozen=True)
class Machine:
    """One machine of a run: its name in the system and how ssh reaches it."""

    name: str
    destination: str

    @property
    def host(self) -> str:
        """``[user@]host`` as ssh takes it."""
        match = _DESTINATION.match(self.destination)
        assert match is not None  # checked by machines()
        return f"{match['user']}@{match['host']}" if match["user"] else match["host"]

    @property
    def port(self) -> str | None:
        match = _DESTINATION.match(self.destination)
        return match["port"] if match else None


def machines(graph: SystemGraph, given: Mapping[str, str]) -> list[Machine]:
    """The machines ``graph`` runs on, from ``given`` (name -> destination), checked: every
    node placed, every machine the nodes name given, none given but unused."""
    if not given:
        raise TransportError("machines= is empty: give each machine the system's nodes name as name=destination")
    for name, destination in given.items():
        if not isinstance(destination, str) or not _DESTINATION.match(destination):
            raise TransportError(
                f"machine '{name}': {destination!r} is not an ssh destination: use [user@]host[:port] or a Host "
                f"alias of your ssh config")
    unplaced = [n.name for n in graph.nodes if not n.machine]
    if unplaced:
        raise TransportError(
            f"node '{unplaced[0]}' has no machine: across machines every node needs Node(..., machine=NAME) "
            f"(one of {', '.join(sorted(given))})")
    used = {n.machine for n in graph.nodes}
    missing = sorted(m for m in used if m not in given)
    if missing:
        nodes = [n.name for n in graph.nodes if n.machine == missing[0]]
        raise TransportError(
            f"machine '{missing[0]}' (node '{nodes[0]}') was not given: add {missing[0]}=[user@]host[:port] "
            f"(lk: --machine {missing[0]}=...)")
    unused = sorted(m for m in given if m not in used)
    if unused:
        raise TransportError(
            f"machine '{unused[0]}' was given but no node of system '{graph.name}' runs on it (nodes run on "
            f"{', '.join(sorted(used))}): remove it or place a node there with Node(..., machine='{unused[0]}')")
    return [Machine(name, given[name]) for name in sorted(used)]


def parse(pairs: Iterable[str]) -> dict[str, str]:
    """``--machine NAME=DESTINATION`` flags as a mapping."""
    found: dict[str, str] = {}
    for pair in pairs:
        name, sep, destination = pair.partition("=")
        if not sep or not name or not destination:
            raise TransportError(f"--machine {pair!r}: use NAME=[user@]host[:port] (NAME as in Node(machine=NAME))")
        if name in found:
            raise TransportError(f"--machine {name} is given twice")
        found[name] = destination
    return found
