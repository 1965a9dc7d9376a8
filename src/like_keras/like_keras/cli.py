"""The ``like-keras`` (alias ``lk``) command line.

    lk run TARGET [--transport T] [--iterations N] [--duration S] [--record C.P ...]
           [--replay COMPONENT=BAG [--replay-topic COMPONENT.PORT=TOPIC]]
           [--live [--host H] [--port P] [--live-wait S]]
    lk check TARGET
    lk graph TARGET [--format mermaid|json|svg|png|dot] [-o PATH]
    lk summary TARGET
    lk compile TARGET --transport T --out DIR
    lk <transport> ...   a transport's own commands (lk ros2 build TARGET --workspace WS)

TARGET is ``path/to/file.py:Name`` or ``package.module:Name`` (a System class or a
factory); ``--arg key=value`` passes keyword arguments to it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import yaml

from like_keras.deploy import machines
from like_keras.errors import LikeKerasError, RunError
from like_keras.graph.draw import FORMATS
from like_keras.graph.summary import count as _count
from like_keras.live import Live
from like_keras.recording.replay import Replay
from like_keras.result import RunResult
from like_keras.system.system import System
from like_keras.transports import commands
from like_keras.transports.common.target import load_system


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    # A SIGTERM (a supervisor, `timeout`) stops a run as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return int(args.func(args) or 0)
    except LikeKerasError as exc:
        _print_error(exc)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lk", description="Describe a robot system once, run it on any transport.")
    sub = p.add_subparsers(dest="command", required=True)

    def command(name: str, help_: str, func: Any) -> argparse.ArgumentParser:
        c = _with_target(sub.add_parser(name, help=help_, description=help_))
        c.set_defaults(func=func)
        return c

    run = command("run", "Run a system and print what happened.", _run)
    run.add_argument("--transport", default="native")
    run.add_argument("--iterations", type=int, help="steps of the clock component before stopping")
    run.add_argument("--duration", type=float, help="seconds to run (simulated on native unless --realtime)")
    run.add_argument("--timeout", type=float, help="wall-clock seconds before the run is stopped as failed")
    run.add_argument("--realtime", action="store_true", help="pace timers to the wall clock")
    run.add_argument("--record", nargs="*", default=[], metavar="COMPONENT.PORT", help="output ports to record")
    run.add_argument("--run-dir", help="where the run keeps its files (default: a new temporary directory)")
    run.add_argument("--replay", action="append", default=[], metavar="COMPONENT=BAG",
                     help="the component does not run: its outputs come from a rosbag2 bag")
    run.add_argument("--replay-topic", action="append", default=[], metavar="COMPONENT.PORT=TOPIC",
                     help="the bag topic a replayed output port reads (for a bag recorded elsewhere)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--live", action="store_true",
                     help="serve a Foxglove live view of the recorded ports (every output without --record)")
    run.add_argument("--host", default=Live.host,
                     help=f"where --live listens (default {Live.host}; 0.0.0.0 opens it to the network)")
    run.add_argument("--port", type=int, default=Live.port,
                     help=f"--live's port (default {Live.port}; 0: any free one)")
    run.add_argument("--live-wait", type=float, default=Live.wait, metavar="S",
                     help="with --live, wait up to S seconds for Foxglove to subscribe before the run starts")
    _with_machines(run)

    command("check", "Build and validate a system; exit 1 with the error if it is wrong.", _check)
    graph = command("graph", "Print the system graph.", _graph)
    graph.add_argument("--format", choices=["mermaid", "json", *FORMATS], default="mermaid")
    graph.add_argument("-o", "--output", help="file for svg, png or dot (default: <system>.<format>)")
    command("summary", "Print a table of nodes, components, ports and connections.", _summary)
    comp = command("compile", "Write what a transport needs to run the system.", _compile)
    comp.add_argument("--transport", required=True)
    comp.add_argument("--out", required=True, help="output path")
    dep = command("deploy", "Install the system on its machines over ssh, without running it.", _deploy)
    dep.add_argument("--transport", required=True, choices=["dora", "ros2"])
    dep.add_argument("--service", action="store_true",
                     help="install a systemd service that starts it at boot and restarts it on failure")
    dep.add_argument("--rollback", action="store_true", help="make the previous release current again")
    _with_machines(dep)
    for name, add in commands().items():  # each transport's own subcommands
        group = sub.add_parser(name, help=f"{name} transport tools.", description=f"{name} transport tools.")
        add(group.add_subparsers(dest=f"{name}_command", required=True), _target_command)
    return p


def _with_machines(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--machine", action="append", default=[], metavar="NAME=DESTINATION",
                        help="run Node(machine=NAME) on [user@]host[:port] or an ssh Host alias (repeat per machine)")
    parser.add_argument("--ssh-config", metavar="PATH", help="an OpenSSH config file instead of ~/.ssh/config")


def _with_target(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("target", metavar="TARGET", help="path/to/file.py:Name or package.module:Name")
    parser.add_argument("--arg", action="append", default=[], metavar="KEY=VALUE",
                        help="keyword argument for the system class or factory (YAML value)")
    return parser


def _target_command(sub: argparse._SubParsersAction, name: str, help_: str,
                    func: Callable[[System, argparse.Namespace], int | None]) -> argparse.ArgumentParser:
    """A transport's subcommand that takes a TARGET: ``func(system, args)`` runs it."""
    c = _with_target(sub.add_parser(name, help=help_, description=help_))
    c.set_defaults(func=lambda args: func(_load(args), args))
    return c


def _load(args: argparse.Namespace) -> System:
    kwargs = {key: yaml.safe_load(value) for key, value in _pairs(args.arg, "--arg", "KEY=VALUE", empty=True).items()}
    return load_system(args.target, kwargs)


def _pairs(items: list[str], flag: str, form: str, empty: bool = False) -> dict[str, str]:
    """``KEY=VALUE`` items as a dict (an empty VALUE only when ``empty``)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not (value or empty):
            raise SystemExit(f"lk: {flag} takes {form}, got {item!r}")
        out[key] = value
    return out


def _replays(replay: list[str], topics: list[str]) -> dict[str, Replay]:
    bags = _pairs(replay, "--replay", "COMPONENT=BAG")
    mapped: dict[str, dict[str, str]] = {}
    for key, topic in _pairs(topics, "--replay-topic", "COMPONENT.PORT=TOPIC").items():
        comp, _, port = key.partition(".")
        if comp not in bags:
            raise SystemExit(f"lk: --replay-topic {key}={topic}: '{comp}' is not replayed (add --replay {comp}=BAG)")
        mapped.setdefault(comp, {})[port] = topic
    return {comp: Replay(bag, topics=mapped.get(comp, {})) for comp, bag in bags.items()}


def _run(args: argparse.Namespace) -> int:
    system = _load(args)
    options: dict[str, Any] = {"progress": not args.quiet and sys.stderr.isatty()}
    if args.run_dir:
        options["run_dir"] = args.run_dir
    if args.replay:
        options["replay"] = _replays(args.replay, args.replay_topic)
    if args.live:
        options["live"] = Live(host=args.host, port=args.port, wait=args.live_wait)
    elif (args.host, args.port, args.live_wait) != (Live.host, Live.port, Live.wait):
        raise SystemExit("lk: --host, --port and --live-wait set up the live view: add --live")
    if args.machine:
        options["machines"] = machines.parse(args.machine)
        options["ssh_config"] = args.ssh_config
    elif args.ssh_config:
        raise SystemExit("lk: --ssh-config is for runs across machines: add --machine NAME=DESTINATION")
    result = system.launch(
        transport=args.transport, iterations=args.iterations, duration=args.duration,
        realtime=args.realtime, record=args.record, timeout=args.timeout, **options,
    )
    print(_describe(result, args.record))
    return 0


def _deploy(args: argparse.Namespace) -> int:
    from like_keras import deploy

    system = _load(args)
    given = machines.parse(args.machine)
    if args.rollback:
        if args.service:
            raise SystemExit("lk: --rollback swaps releases (a service follows): drop --service")
        for name, path in deploy.rollback(system, args.transport, given, ssh_config=args.ssh_config).items():
            print(f"{name}: rolled back to {path}")
        return 0
    for name, item in deploy.deploy(system, args.transport, given, ssh_config=args.ssh_config,
                                    service=args.service).items():
        print(f"{name}: {item.path} is current ({item.sent / 1e6:.1f} MB sent)")
        if item.service:
            print(f"{name}: {item.service}")
    return 0


def _describe(result: RunResult, record: list[str]) -> str:
    steps = ", ".join(f"{name} {n}" for name, n in result.steps.items())
    lines = [
        f"system '{result.graph.name}' ran on {result.transport} in {result.duration:.3f} s"
        + (f" ({result.sim_time:.3f} s simulated)" if result.sim_time else ""),
        f"  steps: {steps}",
    ]
    for key in record:
        values = result.messages(key)
        line = f"  {key}: {len(values)} messages"
        if values and all(isinstance(v, bool) for v in values):
            line += f", {sum(values)} true, last {values[-1]!r}"
        elif values and all(isinstance(v, (int, float)) for v in values):
            line += f", sum {sum(values):g}, last {values[-1]!r}"
        lines.append(line)
    if result.recording:
        lines.append(f"  recording: {result.recording}")
    return "\n".join(lines)


def _check(args: argparse.Namespace) -> int:
    graph = _load(args).build()
    print(f"ok: system '{graph.name}': {_count(graph.nodes, 'node')}, {_count(graph.components, 'component')}, "
          f"{_count(graph.connections, 'connection')}, clock: {graph.clock or 'none'}")
    return 0


def _graph(args: argparse.Namespace) -> int:
    system = _load(args)
    if args.format in FORMATS:
        print(f"wrote {system.draw(args.output or f'{system.name}.{args.format}', args.format)}")
    elif args.format == "json":
        print(system.build().to_json())
    else:
        print(system.to_mermaid(), end="")
    return 0


def _summary(args: argparse.Namespace) -> int:
    _load(args).summary()
    return 0


def _compile(args: argparse.Namespace) -> int:
    path = _load(args).compile_to_transport(args.transport, args.out)
    print(f"wrote {path}")
    return 0


def _print_error(exc: LikeKerasError) -> None:
    if isinstance(exc, RunError) and exc.__cause__ is not None:
        cause = exc.__cause__
        traceback.print_exception(type(cause), cause, cause.__traceback__, file=sys.stderr)
    print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
