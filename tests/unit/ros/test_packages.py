"""Every example compiles to ROS 2 packages that colcon builds and tests green here,
with the standard ament lint tests passing on the generated code."""

import ast
import os
import subprocess

import pytest
import yaml
from catkin_pkg.package import parse_package_string

from like_keras.errors import TransportError
from like_keras.transports.common.target import load_system
from like_keras_examples.bandit import Bandit
from like_keras_examples.cartpole import CartPole
from like_keras_examples.sensor_pipeline import SensorPipeline
from like_keras_examples.throughput import Flood

from conftest import ROOT, VENV_BIN, ros2_env, tool

EXAMPLES = [CartPole, Bandit, SensorPipeline, Flood]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """All examples compiled into one workspace, built and tested once."""
    colcon = tool("colcon")
    tool("ament_flake8")  # Debian's ament_lint, for the generated lint tests
    ws = tmp_path_factory.mktemp("ws")
    for cls in EXAMPLES:
        cls().compile_to_transport("ros2", ws / "src")
    # rosidl_default_generators is not in Debian: interface packages are checked with rosidl instead.
    ignore = ["--packages-ignore", "sensor_pipeline_interfaces"]
    build = subprocess.run([colcon, "build", *ignore], cwd=ws, capture_output=True, text=True, timeout=600)
    test = subprocess.run([colcon, "test", "--return-code-on-test-failure", *ignore], cwd=ws,
                          capture_output=True, text=True, timeout=600)
    result = subprocess.run([colcon, "test-result", "--all", "--verbose"], cwd=ws, capture_output=True,
                            text=True, timeout=60)
    return ws, build, test, result


def test_colcon_builds_and_tests_every_example_green(workspace):
    ws, build, test, result = workspace
    assert build.returncode == 0, build.stdout + build.stderr
    # Each example's bringup and app (its code), and like-keras' own two packages, which travel with them.
    assert "10 packages finished" in build.stdout
    assert test.returncode == 0, result.stdout
    # 4 lint tests per bringup package: copyright, flake8, pep257, xmllint.
    assert "Summary: 16 tests, 0 errors, 0 failures, 0 skipped" in result.stdout, result.stdout


@pytest.mark.parametrize("cls", EXAMPLES, ids=lambda c: c.__name__)
def test_package_xml_and_install_layout(workspace, cls):
    ws = workspace[0]
    graph = cls().build()
    pkg = f"{graph.name}_bringup"
    xml = (ws / "src" / pkg / "package.xml").read_text()
    package = parse_package_string(xml)
    assert package.get_build_type() == "ament_python"
    deps = {d.name for d in package.exec_depends}
    assert {"like_keras", "like_keras_ros", "rclpy", "launch", "launch_ros", "std_msgs"} <= deps
    proc = subprocess.run([tool("ament_xmllint"), str(ws / "src" / pkg / "package.xml")], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout
    install = ws / "install" / pkg
    assert (install / "share/ament_index/resource_index/packages" / pkg).is_file()
    assert (install / "share" / pkg / "launch" / f"{graph.name}.launch.py").is_file()
    assert (install / "share" / pkg / "config" / f"{graph.name}.yaml").is_file()
    for node in graph.nodes:
        assert (install / "lib" / pkg / node.name).is_file()  # where `ros2 run` looks


def _launch_nodes(path):
    """The NODES and MACHINES literals of a generated launch file (read, not executed)."""
    tree = ast.parse(path.read_text())
    values = {t.id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
              for t in n.targets if isinstance(t, ast.Name) and t.id in ("NODES", "MACHINES", "PACKAGE")}
    names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert "generate_launch_description" in names
    return values


@pytest.mark.parametrize("cls", EXAMPLES, ids=lambda c: c.__name__)
def test_launch_file_names_installed_executables(workspace, cls):
    ws = workspace[0]
    graph = cls().build()
    pkg = f"{graph.name}_bringup"
    values = _launch_nodes(ws / "install" / pkg / "share" / pkg / "launch" / f"{graph.name}.launch.py")
    assert values["PACKAGE"] == pkg and [name for name, _ in values["NODES"]] == [n.name for n in graph.nodes]
    for name, machine in values["NODES"]:
        assert (ws / "install" / pkg / "lib" / pkg / name).is_file()
        assert machine == graph.node(name).machine


def test_parameters_file_holds_the_config_fields(workspace):
    ws = workspace[0]
    params = yaml.safe_load((ws / "src/bandit_bringup/config/bandit.yaml").read_text())
    bounds = {"like_keras": {"iterations": 0, "duration": 0.0, "run_dir": "", "record": "", "replay": "",
                             "lockstep": False, "epoch_ns": 0}}
    assert params["/**/learner"]["ros__parameters"] == {**bounds, "agent": {"arms": 5, "epsilon": 0.1, "seed": 0}}
    assert params["/**/world"]["ros__parameters"] == {**bounds, "env": {"arms": 5, "seed": 0}}


def test_entry_points_import_without_ros(workspace):
    ws = workspace[0]
    script = (
        f". {ws / 'install/setup.sh'} && {VENV_BIN / 'python'} -c "
        "'import cartpole_bringup.nodes as n; print(n.TARGET, n.DIGEST, callable(n.run_sim), callable(n.run_control))'"
    )
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["like_keras_examples.cartpole:CartPole", CartPole().build().digest(), "True",
                                   "True"]


def test_compiling_again_replaces_the_packages(tmp_path):
    src = tmp_path / "src"
    CartPole().compile_to_transport("ros2", src)
    (src / "cartpole_bringup/stale.txt").write_text("old")
    CartPole(seed=7).compile_to_transport("ros2", src)
    assert not (src / "cartpole_bringup/stale.txt").exists()
    assert "KWARGS = json.loads('{\"seed\": 7}')" in (src / "cartpole_bringup/cartpole_bringup/nodes.py").read_text()
    assert sorted(p.name for p in src.iterdir()) == ["cartpole_app", "cartpole_bringup", "like_keras", "like_keras_ros"]


def test_external_dora_nodes_are_refused_clearly(tmp_path):
    system = load_system(f"{ROOT / 'tests/assets/systems.py'}:WithExternal")
    with pytest.raises(TransportError, match="external Dora process"):
        system.compile_to_transport("ros2", tmp_path)


def test_lk_compile_and_ros2_build(tmp_path):
    ros2_env()
    lk = str(VENV_BIN / "lk")
    proc = subprocess.run([lk, "compile", "like_keras_examples.bandit:Bandit", "--transport", "ros2", "--out",
                           str(tmp_path / "a/src")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and (tmp_path / "a/src/bandit_bringup/package.xml").is_file()
    # Neither the venv activated nor ROS 2 sourced, and another python3 (one without em, as a
    # pyenv shim) first on PATH: the interfaces package is still built, for this interpreter.
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "python3").write_text("#!/bin/sh\necho 'not this python' >&2\nexit 1\n")
    (shim / "python3").chmod(0o755)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ROS_", "AMENT_", "COLCON_")) and k not in ("PYTHONPATH", "CMAKE_PREFIX_PATH",
                                                                           "VIRTUAL_ENV", "LD_LIBRARY_PATH")}
    env["PATH"] = f"{shim}:/usr/bin:/bin"
    proc = subprocess.run([lk, "ros2", "build", "like_keras_examples.sensor_pipeline:SensorPipeline",
                           "--workspace", str(tmp_path / "ws")], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 packages finished" in proc.stdout, proc.stdout
    # Its bindings work in this interpreter (CDR through rclpy's C type support).
    code = ("from rclpy.serialization import serialize_message as s; "
            "from sensor_pipeline_interfaces.msg import Detection; print(len(s(Detection(pixels=7))))")
    check = subprocess.run(["bash", "-c", f'source {tmp_path}/ws/install/setup.bash && "$0" -c "$1"',
                            str(VENV_BIN / "python"), code], capture_output=True, text=True, timeout=60, env=env)
    assert check.returncode == 0 and int(check.stdout) > 4, check.stderr
    assert (tmp_path / "ws/install/sensor_pipeline_bringup/lib/sensor_pipeline_bringup/perception").is_file()
    # A second system in the same workspace builds too.
    proc = subprocess.run([lk, "ros2", "build", "like_keras_examples.cartpole:CartPole", "--workspace",
                           str(tmp_path / "ws")], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "ws/install/cartpole_bringup/lib/cartpole_bringup/sim").is_file()


def test_without_ros2_the_ros2_transport_says_how_to_get_it(tmp_path):
    # As on a machine without ROS 2: nothing sourced, no /opt/ros/<distro>.
    code = (
        "import pathlib, like_keras_ros.environment as e; e.OPT_ROS = pathlib.Path('/nonexistent');"
        "from like_keras_examples.sensor_pipeline import SensorPipeline as S;"
        "from like_keras_examples.cartpole import CartPole as C;"
        "from like_keras_ros.workspace import build\n"
        "for f in (lambda: C().launch(transport='ros2', iterations=5), lambda: build(S(), 'ws')):\n"
        "    try: f()\n"
        "    except Exception as exc: print(type(exc).__name__, exc)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROS_", "AMENT_"))}
    proc = subprocess.run([str(VENV_BIN / "python"), "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path, env=env)
    launch, build = proc.stdout.splitlines()
    assert launch.startswith("TransportError ROS 2 was not found") and "source /opt/ros/jazzy/setup.bash" in launch
    assert build.startswith("TransportError sensor_pipeline_interfaces (the system's own Msg types) needs ROS 2")
    assert not (tmp_path / "ws").exists()  # nothing half-written
