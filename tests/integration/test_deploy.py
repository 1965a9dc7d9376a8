"""Across machines over ssh (``like_keras.deploy``), on two robots simulated the way
robots are (tests/robots.py): network namespaces on one bridge, each with its own sshd and
home, where this checkout and its venv do not exist. Whatever a deploy forgets to ship
fails there."""

from __future__ import annotations

import subprocess
import threading
import time

import numpy as np
import pytest

from like_keras import deploy
from like_keras.errors import RunError, RunTimeoutError, TransportError
from like_keras.transports.common.target import load_system

import processes
from conftest import SYSTEMS, VENV_BIN, _missing, ros2_env
from robots import robots, unavailable

MACHINES = {"robot": "robot", "base": "base"}  # Host aliases of the fleet's ssh config
PORTS = ["env.obs", "env.reward", "agent.action"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Two robots shared by this module's tests (each deploy makes its own release)."""
    if reason := unavailable():
        _missing(reason)
    with robots(["robot", "base"], tmp_path_factory.mktemp("site")) as fleet:
        yield fleet


def _nothing_left(fleet, *names, within: float = 0.0) -> None:
    """No process of a run is left on the robots (their sshd aside), ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        left = {name: fleet[name].pids() for name in names}
        if not any(left.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert not any(left.values()), {n: fleet[n].ssh(f"ps -o pid,args -p {','.join(map(str, p))}").stdout
                                    for n, p in left.items() if p}


def _same_trace(a, b) -> None:
    for port in PORTS:
        x, y = a.messages(port), b.messages(port)
        assert len(x) == len(y) > 0, port
        for u, v in zip(x, y):
            np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("transport", ["dora", "ros2"])
def test_the_split_loop_on_two_robots_gives_the_native_trace(site, transport):
    if transport == "ros2":
        ros2_env()
    system = load_system(f"{SYSTEMS}:TwoMachines")
    result = system.launch(transport=transport, machines=MACHINES, ssh_config=site.ssh_config, iterations=60,
                           record=PORTS, timeout=300)
    native = load_system(f"{SYSTEMS}:TwoMachines").launch(iterations=60, record=PORTS)
    assert result.steps == native.steps == {"env": 60, "agent": 61}
    _same_trace(native, result)  # read from the recording fetched back from both robots
    assert (result.run_dir / "recording" / "metadata.yaml").is_file()
    assert not (result.run_dir / "rec").exists()  # both robots' parts, fetched, merged and removed
    _nothing_left(site, "robot", "base")


def test_lk_run_takes_machines_and_an_ssh_config(site):
    proc = processes.run([str(VENV_BIN / "lk"), "run", f"{SYSTEMS}:TwoMachines", "--transport", "dora",
                          "--machine", "robot=robot", "--machine", "base=base", "--ssh-config", str(site.ssh_config),
                          "--iterations", "30", "--record", "env.reward", "--timeout", "300"],
                         capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "ran on dora" in proc.stdout and "env 30, agent 31" in proc.stdout
    assert "[robot] " in proc.stdout and "[base] " in proc.stdout  # each machine's output, named
    _nothing_left(site, "robot", "base")


def test_a_destination_is_user_host_port_as_well_as_an_alias(site):
    given = {name: site[name].destination for name in MACHINES}  # root@10.x.y.z:22
    config = site.tmp / "keys_only.conf"
    config.write_text(f"Host *\n  IdentityFile {site.key}\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n"
                      f"  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n")
    result = load_system(f"{SYSTEMS}:TwoMachines").launch(transport="dora", machines=given, ssh_config=config,
                                                         iterations=20, timeout=300)
    assert result.steps == {"env": 20, "agent": 21}


def test_a_second_deploy_ships_only_what_changed_and_rollback_swaps_back(site):
    system = load_system(f"{SYSTEMS}:Robots")
    first = deploy.deploy(system, "dora", MACHINES, ssh_config=site.ssh_config)
    second = deploy.deploy(system, "dora", MACHINES, ssh_config=site.ssh_config)
    for name in MACHINES:
        assert second[name].path != first[name].path
        assert second[name].sent < first[name].sent / 1000, (first[name].sent, second[name].sent)  # not the wheels
        assert _current(site, name, "dora") == second[name].path
    back = deploy.rollback(system, "dora", MACHINES, ssh_config=site.ssh_config)
    assert back == {name: first[name].path for name in MACHINES}
    assert all(_current(site, name, "dora") == first[name].path for name in MACHINES)
    # The release it swapped back to still runs.
    result = load_system(f"{SYSTEMS}:Robots", {"how": "never"}).launch(
        transport="dora", machines=MACHINES, ssh_config=site.ssh_config, iterations=10, timeout=300)
    assert result.steps == {"ticker": 10, "breaks": 10}


def test_rollback_needs_an_older_release_on_every_machine(site, tmp_path):
    with robots(["robot", "base"], tmp_path) as fleet:
        system = load_system(f"{SYSTEMS}:Robots")
        only = deploy.deploy(system, "dora", MACHINES, ssh_config=fleet.ssh_config)
        with pytest.raises(TransportError, match="no release older"):
            deploy.rollback(system, "dora", MACHINES, ssh_config=fleet.ssh_config)
        assert all(_current(fleet, name, "dora") == only[name].path for name in MACHINES)


def _current(fleet, name: str, transport: str, system: str = "robots") -> str:
    return fleet[name].ssh(f"readlink -f ~/.like_keras/{system}/{transport}/current").stdout.strip()


@pytest.mark.parametrize("transport", ["dora", "ros2"])
def test_a_node_that_raises_on_a_robot_fails_the_run_naming_machine_node_and_component(site, transport):
    if transport == "ros2":
        ros2_env()
    with pytest.raises(RunError) as err:
        load_system(f"{SYSTEMS}:Robots", {"how": "raise"}).launch(
            transport=transport, machines=MACHINES, ssh_config=site.ssh_config, duration=120, timeout=300)
    assert (err.value.machine, err.value.node, err.value.component) == ("base", "works", "breaks")
    assert "on machine 'base'" in str(err.value) and "cannot handle 5" in str(err.value)
    _nothing_left(site, "robot", "base")


# The process of node 'works' (Dora's runner, or the ROS entry point); never the shell that looks for it.
_WORKS = "'[-]-node works|[r]obots_bringup/works'"


def _stop_during_run(site, transport: str, act) -> tuple[RunError, float]:
    """Start Robots (never failing) for a long duration; ``act()`` once its node runs on
    'base'; the RunError and the seconds from ``act`` to the error."""
    acted: list[float] = []

    def watch():
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if site["base"].ssh(f"pgrep -f {_WORKS}").returncode == 0:
                acted.append(time.monotonic())
                act()
                return
            time.sleep(0.5)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    with pytest.raises(RunError) as err:
        load_system(f"{SYSTEMS}:Robots", {"how": "never"}).launch(
            transport=transport, machines=MACHINES, ssh_config=site.ssh_config, duration=120, timeout=300)
    thread.join(5)
    assert acted, "the node never ran on base"
    return err.value, time.monotonic() - acted[0]


@pytest.mark.parametrize("transport", ["dora", "ros2"])
def test_a_node_killed_on_a_robot_ends_the_run_everywhere(site, transport):
    if transport == "ros2":
        ros2_env()
    error, seconds = _stop_during_run(site, transport, lambda: site["base"].ssh(f"pkill -9 -f {_WORKS}"))
    assert (error.machine, error.node) == ("base", "works")
    assert "died without reporting" in str(error)
    assert seconds < 30  # within seconds, not the run's 120 s
    _nothing_left(site, "robot", "base")


def test_a_timeout_stops_every_machine(site):
    with pytest.raises(RunTimeoutError, match="did not finish within timeout=15"):
        load_system(f"{SYSTEMS}:Robots", {"how": "never"}).launch(
            transport="dora", machines=MACHINES, ssh_config=site.ssh_config, timeout=15)
    _nothing_left(site, "robot", "base")


def test_a_robot_that_drops_off_the_network_ends_the_run_and_stops_by_itself(site):
    try:
        error, seconds = _stop_during_run(site, "dora", site["robot"].cut_link)
        assert error.machine == "robot" and "dropped off the network" in str(error)
        assert seconds < 30
        _nothing_left(site, "base")
    finally:
        site["robot"].restore_link()
    _nothing_left(site, "robot", within=15)  # it stopped its part when the heartbeat stopped


# --- bad input: a clear error before anything runs anywhere, nothing half-installed ------


def _releases(fleet, name: str, transport: str = "dora") -> str:
    return fleet[name].ssh(f"ls ~/.like_keras/robots/{transport}/releases 2>/dev/null").stdout


def test_an_unreachable_machine_fails_before_anything_is_installed(site):
    system = load_system(f"{SYSTEMS}:Robots")
    before = _releases(site, "base")
    nobody = str(site.network.network_address + 250)  # on the robots' network, no machine there
    with pytest.raises(TransportError, match=r"machine 'robot' \(root@.*\): it cannot be reached"):
        deploy.deploy(system, "dora", {"robot": f"root@{nobody}", "base": "base"}, ssh_config=site.ssh_config)
    assert _releases(site, "base") == before


def test_a_refused_key_fails_naming_the_machine(site):
    with pytest.raises(TransportError, match="refused the key"):
        deploy.deploy(load_system(f"{SYSTEMS}:Robots"), "dora", MACHINES, ssh_config=site.config_with_wrong_key())


@pytest.mark.parametrize("given, message", [
    ({"robot": "robot"}, r"machine 'base' \(node 'works'\) was not given"),
    ({**MACHINES, "arm": "robot"}, "machine 'arm' was given but no node"),
    ({"robot": "robot", "base": "no such:host"}, "is not an ssh destination"),
])
def test_machines_must_match_the_system(given, message):
    with pytest.raises(TransportError, match=message):
        load_system(f"{SYSTEMS}:Robots").launch(transport="dora", machines=given, iterations=5)


def test_every_node_needs_a_machine():
    with pytest.raises(TransportError, match="node 'sim' has no machine"):
        load_system(f"{SYSTEMS}:TwoMachines", {"sim_machine": None}).launch(
            transport="dora", machines={"base": "base"}, iterations=5)


def test_the_native_transport_does_not_run_across_machines():
    with pytest.raises(TransportError, match="does not run across machines"):
        load_system(f"{SYSTEMS}:Robots").launch(machines=MACHINES, iterations=5)


def test_ros2_needs_ros_on_every_machine(tmp_path):
    if reason := unavailable():
        _missing(reason)
    with robots(["robot", "base"], tmp_path, without_ros=["base"]) as fleet:
        with pytest.raises(TransportError, match=r"machine 'base' .* has no ROS 2"):
            deploy.deploy(load_system(f"{SYSTEMS}:Robots"), "ros2", MACHINES, ssh_config=fleet.ssh_config)
        assert _releases(fleet, "robot", "ros2") == ""  # the other machine got nothing either


def test_a_python_older_than_the_wheels_need_is_refused(tmp_path):
    if reason := unavailable():
        _missing(reason)
    with robots(["robot", "base"], tmp_path) as fleet:
        # The robot's first python3 on PATH is an old one.
        fleet["robot"].ssh("mount -t tmpfs none /usr/local/bin && printf '#!/bin/sh\\necho 3.8\\n"
                           "[ \"$1\" = -c ] && echo python=3.8\\n' > /usr/local/bin/python3 && "
                           "chmod +x /usr/local/bin/python3")
        with pytest.raises(TransportError, match=r"machine 'robot' .* has Python 3.8, and the shipped wheels are "
                                                 r"for Python 3\.\d+"):
            deploy.deploy(load_system(f"{SYSTEMS}:Robots"), "dora", MACHINES, ssh_config=fleet.ssh_config)
        assert _releases(fleet, "base") == ""


_NEEDS_MORE = """
import hypothesis  # a new dependency: this release needs a venv of its own

from like_keras import Component, Input, Node, Output, System


class Count(Component):
    out = Output(int)
    rate_hz = 50.0

    def step(self):
        return 1


class Take(Component):
    x = Input(int)

    def step(self, x):
        pass


class Robots(System):
    def __init__(self):
        self.count = Count.from_node(Node("ticks", machine="robot"))
        self.take = Take.from_node(Node("works", machine="base"))
        self.connect(self.count.out, self.take.x)
        super().__init__(config=System.Config(name="robots"))
"""


def test_a_full_disk_is_refused_and_the_previous_release_stays(tmp_path):
    if reason := unavailable():
        _missing(reason)
    with robots(["robot", "base"], tmp_path, home_size="1800m") as fleet:
        first = deploy.deploy(load_system(f"{SYSTEMS}:Robots"), "dora", MACHINES, ssh_config=fleet.ssh_config)
        fleet["robot"].ssh("fallocate -l $(( $(df -Pk /root | awk 'NR==2 {print $4}') - 50000 ))k /root/ballast")
        (tmp_path / "robots_v2.py").write_text(_NEEDS_MORE)
        with pytest.raises(TransportError, match=r"machine 'robot' .* MB free in /root, and the release needs about"):
            deploy.deploy(load_system(f"{tmp_path}/robots_v2.py:Robots"), "dora", MACHINES,
                          ssh_config=fleet.ssh_config)
        for name in MACHINES:
            assert _current(fleet, name, "dora") == first[name].path
            assert _releases(fleet, name).split() == [first[name].path.rsplit("/", 1)[1]]


def test_lk_deploy_installs_a_service_that_runs_the_current_release_and_rolls_back(site):
    ros2_env()
    lk = [str(VENV_BIN / "lk"), "deploy", f"{SYSTEMS}:Robots", "--arg", "how=never", "--transport", "ros2",
          "--machine", "robot=robot", "--machine", "base=base", "--ssh-config", str(site.ssh_config)]
    first = subprocess.run([*lk, "--service"], capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    unit = "/etc/systemd/system/like-keras-robots.service"
    assert f"robot: service {unit} installed; systemd does not run there now" in first.stdout
    for name in MACHINES:  # systemd parses it and finds what it names (systemd is not PID 1 here)
        verify = site[name].ssh(f"systemd-analyze verify {unit}")
        assert verify.returncode == 0, verify.stdout + verify.stderr
    # What the unit runs, run by hand on both robots: the two nodes find each other.
    starts = {name: site[name].ssh(f"sed -n 's/^ExecStart=//p' {unit}").stdout.strip() for name in MACHINES}
    assert starts["robot"].endswith("/current/start-robot.sh")
    # Stopped as the unit stops it: SIGINT, then SIGKILL after TimeoutStopSec, which also ends
    # a `ros2 launch` that hangs once its nodes have finished (ros2/launch_ros#199).
    grace = site["robot"].ssh(f"sed -n 's/^TimeoutStopSec=//p' {unit}").stdout.strip()
    procs = [subprocess.Popen(["ssh", "-F", str(site.ssh_config), name, f"timeout -s INT -k {grace} 25 {start}"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for name, start in starts.items()]
    try:
        listed = site["base"].ssh("source /opt/ros/jazzy/setup.bash && sleep 8 && ROS_DOMAIN_ID=$(sed -n "
                                  "'s/.*ROS_DOMAIN_ID=\\([0-9]*\\).*/\\1/p' ~/.like_keras/robots/ros2/current/"
                                  "start-base.sh) ros2 node list --no-daemon --spin-time 5", timeout=60).stdout
        assert "/ticks" in listed and "/works" in listed, listed
    finally:
        outputs = [p.communicate(timeout=60)[0] for p in procs]
    for out, node in zip(outputs, ("ticks", "works")):  # each ran its node until stopped (SIGINT, as systemd does)
        assert f"[{node}-1]: process started" in out and "Traceback" not in out, out
        assert f"[{node}-1]: process has finished cleanly" in out, out
    _nothing_left(site, "robot", "base", within=10)

    second = subprocess.run(lk, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    back = subprocess.run([*lk, "--rollback"], capture_output=True, text=True, timeout=120)
    assert back.returncode == 0, back.stderr
    first_release = first.stdout.split("robot: ", 1)[1].split(" is current")[0]
    assert f"robot: rolled back to {first_release}" in back.stdout
    assert _current(site, "robot", "ros2") == first_release
