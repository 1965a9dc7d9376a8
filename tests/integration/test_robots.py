"""The simulated robots of tests/robots.py, live: real sshd in network namespaces, reached
with real ssh. What the deployment tests rely on: each robot is its own network and its
own view of the disk, robots and host reach each other (also by multicast, as DDS
discovery does), failures can be caused on purpose, and nothing is left behind."""

import os
import random
import shlex
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import IN_CI, ROOT
from robots import Fleet, robots, unavailable


@pytest.fixture(autouse=True)
def _robots_possible():
    """The tests here that build their own fleet skip as the ``fleet`` fixture does."""
    if reason := unavailable():
        (pytest.fail if IN_CI else pytest.skip)(reason)


def _python(code: str) -> str:
    """A shell command running ``code`` with the robot's system python3 (no venv there)."""
    return f"python3 -c {shlex.quote(code)}"


def _fleet_remains(fleet: Fleet) -> list[str]:
    """Whatever of ``fleet`` the host still has: namespaces, links, sshd processes."""
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    sshd = subprocess.run(["pgrep", "-af", f"sshd.*{fleet.tmp}"], capture_output=True, text=True).stdout
    names = [r.namespace for r in fleet] + [r.host_link for r in fleet] + [fleet.bridge]
    return [n for n in names if n in netns or f" {n}:" in links or f" {n}@" in links] + sshd.splitlines()


def test_ssh_answers_from_inside_each_robots_own_namespace(fleet):
    for robot in fleet:
        done = robot.ssh("stat -L -c %i /proc/self/ns/net; ip -4 -o addr show eth0")
        assert done.returncode == 0, done.stderr
        inode, addr = done.stdout.splitlines()
        assert int(inode) == os.stat(f"/run/netns/{robot.namespace}").st_ino
        assert f"inet {robot.address}/24" in addr
    assert len({r.address for r in fleet} | {fleet.host_address}) == 3
    assert fleet["robot"].destination == f"root@{fleet['robot'].address}:22"
    # the same config works for any ssh-based tool (rsync here), by robot name
    copied = subprocess.run(["rsync", "-e", f"ssh -F {fleet.ssh_config}", "base:/etc/hostname", str(fleet.tmp)],
                            capture_output=True, text=True, timeout=30)
    assert copied.returncode == 0, copied.stderr
    assert (fleet.tmp / "hostname").read_text() == open("/etc/hostname").read()


def test_pids_lists_what_runs_on_the_robot_and_kill_all_ends_it(fleet):
    robot = fleet["robot"]
    assert robot.sshd.pid in [int(p) for p in subprocess.check_output(["ip", "netns", "pids", robot.namespace]).split()]
    assert robot.sshd.pid not in robot.pids()  # sshd's listener is not listed
    session = subprocess.Popen(["ssh", "-F", str(fleet.ssh_config), "robot", "sleep 60"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not any("sleep" in _cmdline(p) for p in robot.pids()):
            assert time.monotonic() < deadline and session.poll() is None
            time.sleep(0.05)
        assert fleet["base"].pids() == []
        robot.kill_all()
        assert session.wait(timeout=10) != 0
    finally:
        session.kill()
    assert robot.pids() == []
    assert robot.ssh("true").returncode == 0  # sshd kept listening


def _cmdline(pid: int) -> str:
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_the_checkout_is_empty_and_each_home_private_on_a_robot(fleet):
    assert (ROOT / "tests" / "robots.py").exists()  # the host still sees the checkout
    done = fleet["robot"].ssh(f"echo $HOME; ls -A {ROOT}; ls -A /root")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "/root\n"  # both empty

    mark = f"lkr-mark-{random.randrange(10**9)}"
    assert fleet["robot"].ssh(f"echo robot > /root/{mark} && cat /root/{mark}").stdout == "robot\n"
    assert fleet["robot"].ssh(f"cat /root/{mark}").stdout == "robot\n"  # kept between sessions
    assert fleet["base"].ssh("ls -A /root").stdout == ""
    assert not os.path.exists(f"/root/{mark}")


def test_robots_and_the_host_reach_each_other_by_ip(fleet):
    robot, base = fleet["robot"], fleet["base"]
    with socket.create_server((fleet.host_address, 0)) as server:
        server.settimeout(10)
        port = server.getsockname()[1]
        accepted: list[tuple[bytes, str]] = []

        def accept() -> None:
            conn, (peer, _) = server.accept()
            with conn:
                accepted.append((conn.recv(100), peer))

        thread = threading.Thread(target=accept)
        thread.start()
        done = robot.ssh(_python(f"import socket; socket.create_connection(('{fleet.host_address}', {port}), 5)"
                                 f".sendall(b'robot')"))
        thread.join(timeout=10)
    assert done.returncode == 0, done.stderr
    assert accepted == [(b"robot", robot.address)]

    banner = robot.ssh(_python(f"import socket; print(socket.create_connection(('{base.address}', 22), 5).recv(7))"))
    assert banner.stdout == "b'SSH-2.0'\n", banner.stderr


def test_multicast_crosses_the_bridge_between_robots_and_the_host(fleet):
    """As DDS discovery does: a robot's group datagrams reach the other robot and the host,
    the host's reach a robot. The host must send on the bridge (IP_MULTICAST_IF): its own
    multicast route is its default one, not the bridge."""
    robot, base = fleet["robot"], fleet["base"]
    group, port = f"239.255.{random.randrange(256)}.{random.randrange(1, 255)}", random.randrange(20000, 60000)
    join = struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton(fleet.host_address))
    receive = ("import socket, struct; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
               f"s.bind(('', {port})); s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, "
               f"struct.pack('4s4s', socket.inet_aton('{group}'), socket.inet_aton('{base.address}'))); "
               "s.settimeout(10); data, peer = s.recvfrom(100); print(data.decode(), peer[0])")
    send = ("import socket, time; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            f"for _ in range(100): s.sendto(b'robot', ('{group}', {port})); time.sleep(0.05)")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as host:
        host.bind(("", port))
        host.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, join)
        host.settimeout(10)
        on_base = subprocess.Popen(["ssh", "-F", str(fleet.ssh_config), "base", _python(receive)],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sender = subprocess.Popen(["ssh", "-F", str(fleet.ssh_config), "robot", _python(send)],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            data, (peer, _) = host.recvfrom(100)
            assert (data, peer) == (b"robot", robot.address)
            out, err = on_base.communicate(timeout=15)
            assert out == f"robot {robot.address}\n", err
        finally:
            sender.kill()
            on_base.kill()
            robot.kill_all()  # the sender, which the end of its ssh client does not stop

        on_base = subprocess.Popen(["ssh", "-F", str(fleet.ssh_config), "base", _python(receive)],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        host.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(fleet.host_address))
        try:
            while on_base.poll() is None:
                host.sendto(b"host", (group, port))
                time.sleep(0.05)
            assert on_base.communicate()[0] == f"host {fleet.host_address}\n"
        finally:
            on_base.kill()


def test_without_ros_hides_opt_ros_and_home_size_fills_up(tmp_path):
    with robots(["robot", "bare"], tmp_path, without_ros=["bare"], home_size="8m") as fleet:
        assert fleet["bare"].ssh("ls -A /opt/ros").stdout == ""
        if os.path.isdir("/opt/ros") and os.listdir("/opt/ros"):
            assert fleet["robot"].ssh("ls -A /opt/ros").stdout.split() == sorted(os.listdir("/opt/ros"))

        fits = fleet["robot"].ssh("head -c 4M /dev/zero > /root/fits")
        assert fits.returncode == 0, fits.stderr
        full = fleet["robot"].ssh("head -c 16M /dev/zero > /root/full")
        assert full.returncode != 0 and "No space left on device" in full.stderr
        assert fleet["bare"].ssh("df -k /root | tail -1").stdout.split()[1] == "8192"


def test_cut_link_takes_a_robot_off_the_network_until_restored(fleet):
    robot, base = fleet["robot"], fleet["base"]
    robot.cut_link()
    start = time.monotonic()
    done = robot.ssh("true")
    assert done.returncode == 255 and time.monotonic() - start < 6, done.stderr
    assert base.ssh("true").returncode == 0  # the others stay reachable
    robot.restore_link()
    assert robot.ssh("true").returncode == 0


def test_a_key_the_robot_does_not_know_is_refused(fleet):
    done = subprocess.run(["ssh", "-F", str(fleet.config_with_wrong_key()), "robot", "true"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert done.returncode == 255 and "Permission denied" in done.stderr


def test_nothing_of_a_fleet_remains_after_it_even_when_the_test_fails(tmp_path):
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with robots(["robot", "base"], tmp_path) as fleet:
            # a daemon outliving its ssh session, as a deployed service does
            assert fleet["robot"].ssh("setsid sleep 300 </dev/null >/dev/null 2>&1 &").returncode == 0
            left = fleet["robot"].pids()
            assert left and len(_fleet_remains(fleet)) == 7  # 2 namespaces, 2 veths, bridge, 2 sshd
            raise Boom
    assert _fleet_remains(fleet) == []
    assert not [pid for pid in left if os.path.exists(f"/proc/{pid}/cmdline") and _cmdline(pid)]
