"""From the laptop to the robot: a system across machines over ssh.

- ``launch``: ``System.launch(transport, machines={...})``: install a release on every
  machine, run each machine's nodes there, and return the same ``RunResult`` as a local
  run, with what the machines recorded fetched back.
- ``deploy``: install without running (``lk deploy``), optionally as a systemd service that
  starts the system at boot; ``rollback``: make the previous release current again.

Modules: ``machines`` (ssh destinations, checked against the system), ``ssh`` (OpenSSH and
rsync), ``release`` (releases on a machine), ``fleet`` (install on all machines or none),
``cluster`` (a run across machines, watched), ``agent`` (what runs on each machine),
``service`` (the systemd unit). A transport takes part through its ``remote`` module.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from like_keras.errors import TransportError
from like_keras.result import RunResult

__all__ = ["deploy", "launch", "rollback"]

_GRACE = 5.0


def launch(system: Any, transport: str, options: Any, machines: Mapping[str, str],
           ssh_config: str | Path | None = None) -> RunResult:
    """Run ``system`` on ``machines`` (see ``System.launch``)."""
    from like_keras.deploy.cluster import Cluster
    from like_keras.deploy.fleet import Fleet
    from like_keras.transports.common.supervise import finish, prepare

    graph = system.build()
    if options.replay:
        raise TransportError("replay= across machines is not supported yet: replay on one machine, or record there")
    if options.live is not None:
        raise TransportError("live= across machines is not supported yet: record the ports and open the bag")
    with Fleet(graph, transport, machines, ssh_config) as fleet:
        out, iterations, _ = prepare(graph, options)
        installed = fleet.install()
        wall0 = time.perf_counter()  # the run's duration, as on one machine: not the install
        run_id = time.strftime("%Y%m%d-%H%M%S-", time.gmtime()) + secrets.token_hex(3)
        releases = {name: item.path for name, item in installed.items()}
        runs = {name: item.layout.run(run_id) for name, item in installed.items()}
        session = fleet.remote.Session(graph, releases, runs, options, iterations, out)
        try:
            cluster = Cluster(session, fleet.sshes, releases, runs, out, grace=_GRACE)
        except BaseException:
            session.close()
            raise
        return finish(graph, transport, cluster, out, options, wall0)


def deploy(system: Any, transport: str, machines: Mapping[str, str], *, ssh_config: str | Path | None = None,
           service: bool = False) -> dict[str, Any]:
    """Install a new release of ``system`` on ``machines`` and make it current (on all of
    them, or on none); ``service``: a systemd unit runs it at boot and restarts it on
    failure. Returns what was installed, by machine."""
    from like_keras.deploy.fleet import Fleet
    from like_keras.deploy.service import install_service

    graph = system.build()
    with Fleet(graph, transport, machines, ssh_config) as fleet:
        installed = fleet.install(service=service)
        if service:
            notes = fleet.each(lambda ssh: install_service(ssh, graph.name, transport,
                                                           installed[ssh.machine.name].layout.root))
            installed = {name: dataclasses.replace(item, service=notes[name]) for name, item in installed.items()}
        return installed


def rollback(system: Any, transport: str, machines: Mapping[str, str], *,
             ssh_config: str | Path | None = None) -> dict[str, str]:
    """Make the release before the current one current again on every machine; returns it, by machine."""
    from like_keras.deploy import release
    from like_keras.deploy.fleet import Fleet
    from like_keras.deploy.service import restart_service

    graph = system.build()
    with Fleet(graph, transport, machines, ssh_config) as fleet:
        layouts = fleet.layouts()
        # Every machine has one to go back to before any goes back.
        older = fleet.each(lambda ssh: release.previous(ssh, layouts[ssh.machine.name]))

        def back(ssh: Any) -> str:
            name = ssh.machine.name
            release.make_current(ssh, layouts[name], older[name])
            restart_service(ssh, graph.name)
            return older[name]

        return fleet.each(back)
