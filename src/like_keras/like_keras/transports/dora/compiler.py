"""Compile a SystemGraph to a Dora ``dataflow.yml``.

One Dora node per like-keras Node, each running the generic runner
(``python -m like_keras.transports.dora.runner --target T --node N``) with the
absolute path of this interpreter, so the same environment is used. Ids:

- data: output ``<component>__<port>`` per cross-node source port (like-keras names
  never contain ``__``, so these cannot collide); the receiving node's input has
  the same id and the runner fans it out to every local destination;
- timers: none in the dataflow: each runner keeps its components' timers itself, like
  ROS timers (``timers.py``: Dora's timer inputs flood the daemon when a node falls
  behind); a replayed component or input ticks at ``replay.PACE_HZ``;
- control: ``lk_probe`` from the coordinator (the clock's node) to every other node,
  and ``lk_report`` back (input ``lk_report_<node>``), for the stop-and-drain
  protocol of ``launch(iterations=N)``; ``lk_ack`` from every receiving node back to
  its senders (input ``lk_ack_<node>``) for flow control (``_window``).

Inputs are lossless by default: ``queue_policy: backpressure`` for small messages, and
for arrays of 1 MB or more Dora's faster direct path with one message in flight (see
``_input_spec``). An input declared with ``keep_last=N`` maps to ``queue_size: N,
queue_policy: drop_oldest`` with no flow control. The shared memory pool of a node is
sized from the Array types it sends.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from like_keras.graph.ir import SystemGraph
from like_keras.recording.replay import PACE_HZ
from like_keras.system import types
from like_keras.transports.common import rundir
from like_keras.transports.common.credits import ack_every
from like_keras.transports.common.drain import coordinator_of, peers
from like_keras.transports.common.target import require_rebuildable
from like_keras.utils.files import atomic_write, build_tree

PROBE = "lk_probe"
REPORT = "lk_report"
ACK = "lk_ack"
_MB = 1 << 20
_DEFAULT_POOL = 8 * _MB  # Dora's default shared memory pool per node
_LOSSLESS_QUEUE = 1000
_DIRECT_MIN = _MB  # messages this large take Dora's direct path (see _input_spec)


def data_id(component: str, port: str) -> str:
    return f"{component}__{port}"


def report_id(node: str) -> str:
    return f"{REPORT}_{node}"


def ack_id(node: str) -> str:
    return f"{ACK}_{node}"


@dataclass
class NodePlan:
    """What one Dora node sends and receives, and where each input goes locally."""

    name: str
    coordinator: bool
    outputs: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (component, port)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> Dora input spec
    routes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # id -> [(component, port)]
    lossy: set[str] = field(default_factory=set)
    external_sources: set[str] = field(default_factory=set)  # inputs from external nodes: no seq
    fanout: dict[str, int] = field(default_factory=dict)  # output id -> like-keras nodes it reaches
    flow: dict[str, dict[str, int]] = field(default_factory=dict)  # output -> {receiver: max in flight}
    batched: set[str] = field(default_factory=set)  # outputs that may carry several messages a send
    acks_to: set[str] = field(default_factory=set)  # nodes this one acknowledges receipts to
    ack_every: dict[str, int] = field(default_factory=dict)  # input id -> receipts per acknowledgement
    timers: dict[str, float] = field(default_factory=dict)  # component or component.port -> Hz
    peers: list[str] = field(default_factory=list)  # other nodes (coordinator only)
    pool_bytes: int = 0


def plan(graph: SystemGraph, replayed: frozenset[str] = frozenset()) -> dict[str, NodePlan]:
    """The Dora ids of every node of ``graph``; ``replayed`` components tick at ``PACE_HZ``."""
    coord = coordinator_of(graph)
    plans = {n.name: NodePlan(n.name, n.name == coord) for n in graph.nodes}
    reached: dict[str, set[str]] = {}
    for conn in graph.connections:
        if not graph.is_cross_node(conn):
            continue
        src_node, dst_node = graph.node_of(conn.src), graph.node_of(conn.dst)
        # An external process's ids are its port names; ours are <component>__<port>.
        out = conn.src_port if graph.is_external(conn.src) else data_id(conn.src, conn.src_port)
        src, dst = plans[src_node], plans[dst_node]
        src.outputs[out] = (conn.src, conn.src_port)
        t = types.from_json(graph.component(conn.src).output(conn.src_port).type)
        size = types.max_nbytes(t)
        src.pool_bytes = max(src.pool_bytes, size)
        if graph.is_external(conn.dst):
            dst.inputs[conn.dst_port] = {"source": f"{src_node}/{out}", "queue_size": _LOSSLESS_QUEUE,
                                         "queue_policy": "backpressure"}
            continue
        reached.setdefault(out, set()).add(dst_node)
        iid = data_id(conn.src, conn.src_port)  # input ids are local: always <component>__<port>
        if graph.is_external(conn.src):
            dst.external_sources.add(iid)
        dst.routes.setdefault(iid, []).append((conn.dst, conn.dst_port))
        dst.inputs[iid] = _input_spec(f"{src_node}/{out}", size)
    for p in plans.values():
        for iid, readers in p.routes.items():
            keep = graph.keep_last(readers)
            if keep:
                p.inputs[iid].update(queue_size=keep, queue_policy="drop_oldest")
                p.lossy.add(iid)
    for p in plans.values():
        p.fanout = {out: len(reached.get(out, ())) for out in p.outputs}
        for out, (comp, port) in p.outputs.items():
            iid = data_id(comp, port)
            for receiver in graph.lossless_readers(comp, port):  # keep_last ones: the sender never waits
                p.inputs[ack_id(receiver)] = {"source": f"{receiver}/{ACK}", "queue_size": 100,
                                              "queue_policy": "backpressure"}
                plans[receiver].acks_to.add(p.name)
                window = _window(plans[receiver].inputs[iid])
                p.flow.setdefault(out, {})[receiver] = window
                plans[receiver].ack_every[iid] = ack_every(window)
        p.batched = {out for out in p.flow if _batchable(graph, *p.outputs[out], p.fanout[out], len(p.flow[out]))}
    for comp in graph.components:
        if comp.rate_hz or comp.name in replayed:
            plans[comp.node].timers[comp.name] = PACE_HZ if comp.name in replayed else comp.rate_hz
    for key in sorted(k for k in replayed if "." in k):  # a replayed input ticks in its component's node
        plans[graph.node_of(key.partition(".")[0])].timers[key] = PACE_HZ
    for name in peers(graph):
        plans[name].inputs[PROBE] = {"source": f"{coord}/{PROBE}", "queue_size": 100,
                                     "queue_policy": "backpressure"}
        plans[coord].inputs[report_id(name)] = {
            "source": f"{name}/{REPORT}", "queue_size": 100, "queue_policy": "backpressure",
        }
        plans[coord].peers.append(name)
    return plans


def plan_node(graph: SystemGraph, node: str, replayed: frozenset[str] = frozenset()) -> NodePlan:
    """The plan of ``node``."""
    return plan(graph, replayed)[node]


def _batchable(graph: SystemGraph, comp: str, port: str, fanout: int, lossless: int) -> bool:
    """Small messages that only like-keras runners read losslessly travel in batches: one
    Dora send for the messages a node sends on an output before it next waits (``batch.py``).
    Arrays and bytes stay one a send: they may be large, and plain Dora nodes read them."""
    if graph.is_external(comp) or not lossless == fanout == len(graph.reader_nodes(comp, port)):
        return False
    t = types.from_json(graph.component(comp).output(port).type)
    return t is not bytes and not types.iter_arrays(t)


def _input_spec(source: str, nbytes: int) -> dict[str, Any]:
    """A lossless data input for messages of at most ``nbytes`` (0: small or unknown).

    Below 1 MB: ``backpressure``, the daemon path, with a queue for many messages.
    From 1 MB: Dora's direct shared-memory path, about 10x faster for big arrays. It
    drops messages when several are queued (measured here: 1 MB messages, 16 in flight,
    a loss within the first 100), never with one: flow control keeps exactly one in
    flight (see ``_window``), and the receivers' sequence check would report any loss.
    """
    if nbytes >= _DIRECT_MIN:
        return {"source": source, "queue_size": 2, "queue_policy": "drop_oldest"}
    queue = _LOSSLESS_QUEUE if nbytes <= 64 * 1024 else max(16, min(_LOSSLESS_QUEUE, (512 * _MB) // nbytes))
    return {"source": source, "queue_size": queue, "queue_policy": "backpressure"}


def _window(spec: dict[str, Any]) -> int:
    """Messages a sender may have in flight to an input: Dora's backpressure queue drops
    past 10 x its size, so half the queue; one on the direct path."""
    return 1 if spec["queue_policy"] == "drop_oldest" else max(1, spec["queue_size"] // 2)


def _pool(nbytes: int) -> str | None:
    """A shared memory pool that holds several of the node's largest messages."""
    want = nbytes * 8
    if want <= _DEFAULT_POOL:
        return None
    return f"{min(1024, -(-want // _MB))}MB"


def dataflow(
    graph: SystemGraph,
    *,
    python: str | None = None,
    run_args: list[str] | None = None,
    deploy: bool = True,
    working_dir: str | Mapping[str, str] | None = None,
    replayed: frozenset[str] = frozenset(),
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The dataflow as a dict (see ``compile``); ``run_args`` are extra runner flags,
    ``replayed`` the components a bag replaces (they tick at ``replay.PACE_HZ``), ``env``
    the nodes' environment (default: this process's import path)."""
    require_rebuildable(graph)
    plans = plan(graph, replayed)
    digest = graph.digest()
    if env is None:
        # The folders this process imports the system from (a script's, the current one...) go
        # in the dataflow itself: on a cluster the daemons start the nodes, not this process.
        path = rundir.import_path()
        env = {"PYTHONPATH": path} if path else {}
    env = {"PYTHONUNBUFFERED": "1", "RUST_BACKTRACE": "0", **env}
    nodes = []
    for node in graph.nodes:
        p = plans[node.name]
        if node.executable is not None:
            nodes.append(_external(node, p, deploy, working_dir))
            continue
        argv = ["-u", "-m", "like_keras.transports.dora.runner", "--target", graph.target,
                "--node", node.name, "--digest", digest]
        if graph.target_kwargs:
            argv += ["--kwargs", json.dumps(graph.target_kwargs, sort_keys=True)]
        entry: dict[str, Any] = {
            "id": node.name,
            "path": python or sys.executable,
            "args": shlex.join(argv + list(run_args or [])),
            "env": env,
        }
        if p.inputs:
            entry["inputs"] = dict(p.inputs)
        outputs = list(p.outputs) + ([PROBE] if p.coordinator and p.peers else []) + (
            [REPORT] if not p.coordinator else []) + ([ACK] if p.acks_to else [])
        if outputs:
            entry["outputs"] = outputs
        pool = _pool(p.pool_bytes)
        if pool:
            entry["shared_memory_pool_size"] = pool
        if deploy and node.machine:
            entry["deploy"] = _deploy(node.machine, working_dir)
        nodes.append(entry)
    return {"nodes": nodes}


def _external(node: Any, p: NodePlan, deploy: bool, working_dir: str | Mapping[str, str] | None) -> dict[str, Any]:
    """An external process passes through: its own path, args, env and port ids."""
    entry: dict[str, Any] = {"id": node.name, "path": node.executable}
    if node.args:
        entry["args"] = shlex.join(node.args)
    if node.env:
        entry["env"] = dict(node.env)
    if p.inputs:
        entry["inputs"] = dict(p.inputs)
    if p.outputs:
        entry["outputs"] = list(p.outputs)
    if deploy and node.machine:
        entry["deploy"] = _deploy(node.machine, working_dir)
    return entry


def _deploy(machine: str, working_dir: str | Mapping[str, str] | None) -> dict[str, str]:
    """A node's ``deploy``: its machine, and the folder it runs in there (one for all, or per machine)."""
    folder = working_dir.get(machine) if isinstance(working_dir, Mapping) else working_dir
    return {"machine": machine, **({"working_dir": folder} if folder else {})}


def compile(graph: SystemGraph, out: Path, *, portable: bool | None = None, **options: Any) -> Path:
    """Write the dataflow of ``graph``; returns the ``dataflow.yml`` path. Written atomically.

    ``out`` a directory (``portable``, the default for one): it becomes a directory that runs
    wherever Python does, holding the dataflow, like-keras and the system's code
    (``python/``) and the wheels they need (``wheels/``, ``requirements.txt``); its nodes
    run ``.venv/bin/python`` of that directory (see its README.md). ``out`` a ``.yml`` path
    (or ``portable=False``): only the dataflow, whose nodes run this interpreter."""
    out = Path(out)
    is_file = out.suffix in (".yml", ".yaml")
    if not (portable if portable is not None else not is_file):
        path = out if is_file else out / "dataflow.yml"
        return atomic_write(path, _dataflow_text(graph, dataflow(graph, **options)))
    from like_keras.transports.common import artifact, wheels  # not in node processes: they import this module

    require_rebuildable(graph)
    graph, modules = artifact.travelling(graph)

    def fill(tmp: Path) -> None:
        for name in ("like_keras", *modules):
            src = modules.get(name) or artifact.own_package(name) / name
            artifact.copy_code(src, tmp / PYTHON / src.name)
        needs = wheels.pins(["like_keras", "dora-rs", "dora-rs-cli"], artifact.external_imports(modules))
        wheels.vendor(needs, tmp)
        flow = dataflow(graph, python=f"{VENV}/bin/python", env={"PYTHONPATH": PYTHON}, **options)
        (tmp / "dataflow.yml").write_text(_dataflow_text(graph, flow), encoding="utf-8")
        (tmp / "README.md").write_text(_README.format(name=graph.name, python=wheels.python_tag()), encoding="utf-8")

    return build_tree(out, fill) / "dataflow.yml"


PYTHON = "python"  # like-keras and the system's code, in a portable dataflow's directory
VENV = ".venv"  # the environment its nodes run in, made from its wheels
_README = """# {name} on Dora (generated by like-keras)

Runs on any machine with Python {python}: nothing here names a path of the machine it was
compiled on. From this directory:

    python3 -m venv .venv
    .venv/bin/pip install --no-index --find-links wheels -r requirements.txt
    .venv/bin/dora run dataflow.yml

`python/` holds like-keras and the system's code, `wheels/` what they need (pinned in
`requirements.txt`). `lk deploy` and `launch(machines=...)` do the same over ssh.
"""


def _dataflow_text(graph: SystemGraph, flow: dict[str, Any]) -> str:
    text = f"# Generated by like-keras from {graph.target} (system '{graph.name}'). Do not edit.\n"
    return text + yaml.safe_dump(flow, sort_keys=False, width=1000)
