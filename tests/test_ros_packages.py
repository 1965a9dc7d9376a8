"""Every example compiles to ROS 2 packages that colcon builds and tests green here,
with the standard ament lint tests passing on the generated code."""

import ast
import subprocess

import pytest
import yaml
from catkin_pkg.package import parse_package_string

from like_keras.errors import TransportError
from like_keras.target import load_system
from like_keras_examples.bandit import Bandit
from like_keras_examples.cartpole import CartPole
from like_keras_examples.sensor_pipeline import SensorPipeline
from like_keras_examples.throughput import Flood
from like_keras_ros.bridge import control_topics, topic_of

from conftest import ROOT, VENV_BIN, tool

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
    assert "4 packages finished" in build.stdout
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
def test_launch_file_names_installed_executables_and_real_topics(workspace, cls):
    ws = workspace[0]
    graph = cls().build()
    pkg = f"{graph.name}_bringup"
    values = _launch_nodes(ws / "install" / pkg / "share" / pkg / "launch" / f"{graph.name}.launch.py")
    assert values["PACKAGE"] == pkg and [n["name"] for n in values["NODES"]] == [n.name for n in graph.nodes]
    control = set(control_topics(graph))
    for spec in values["NODES"]:
        assert (ws / "install" / pkg / "lib" / pkg / spec["executable"]).is_file()
        ends = set()
        for conn in graph.connections:
            if graph.is_cross_node(conn) and spec["name"] in (graph.node_of(conn.src), graph.node_of(conn.dst)):
                ends.add(topic_of(graph, conn.src, conn.src_port))
        remapped = {topic for _, topic in spec["remappings"]}
        assert remapped - control == ends  # each remapped data topic is one end of a real connection


def test_parameters_file_holds_the_config_fields(workspace):
    ws = workspace[0]
    params = yaml.safe_load((ws / "src/bandit_bringup/config/bandit.yaml").read_text())
    bounds = {"like_keras": {"iterations": 0, "duration": 0.0}}
    assert params["/**/learner"]["ros__parameters"] == {**bounds, "agent": {"arms": 5, "epsilon": 0.1, "seed": 0}}
    assert params["/**/world"]["ros__parameters"] == {**bounds, "env": {"arms": 5, "seed": 0}}


def test_entry_points_import_without_ros(workspace):
    ws = workspace[0]
    script = (
        f". {ws / 'install/setup.sh'} && {VENV_BIN / 'python'} -c "
        "'import cartpole_bringup.nodes as n; print(n.TARGET, callable(n.run_sim), callable(n.run_control))'"
    )
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["like_keras_examples.cartpole:CartPole", "True", "True"]


def test_compiling_again_replaces_the_packages(tmp_path):
    src = tmp_path / "src"
    CartPole().compile_to_transport("ros2", src)
    (src / "cartpole_bringup/stale.txt").write_text("old")
    CartPole(seed=7).compile_to_transport("ros2", src)
    assert not (src / "cartpole_bringup/stale.txt").exists()
    assert "KWARGS = {'seed': 7}" in (src / "cartpole_bringup/cartpole_bringup/nodes.py").read_text()
    assert sorted(p.name for p in src.iterdir()) == ["cartpole_bringup"]


def test_external_dora_nodes_and_launch_are_refused_clearly(tmp_path):
    system = load_system(f"{ROOT / 'tests/assets/systems.py'}:WithExternal")
    with pytest.raises(TransportError, match="external Dora process"):
        system.compile_to_transport("ros2", tmp_path)
    with pytest.raises(TransportError, match="runs on a ROS 2 machine"):
        CartPole().launch(transport="ros2")


def test_lk_compile_and_ros2_build(tmp_path):
    lk = str(VENV_BIN / "lk")
    proc = subprocess.run([lk, "compile", "like_keras_examples.bandit:Bandit", "--transport", "ros2", "--out",
                           str(tmp_path / "a/src")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and (tmp_path / "a/src/bandit_bringup/package.xml").is_file()
    proc = subprocess.run([lk, "ros2", "build", "like_keras_examples.sensor_pipeline:SensorPipeline",
                           "--workspace", str(tmp_path / "ws")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "skipping sensor_pipeline_interfaces: it needs rosidl_default_generators" in proc.stdout
    assert (tmp_path / "ws/install/sensor_pipeline_bringup/lib/sensor_pipeline_bringup/perception").is_file()
    # A second system in the same workspace builds too (the first one's interfaces are skipped again).
    proc = subprocess.run([lk, "ros2", "build", "like_keras_examples.cartpole:CartPole", "--workspace",
                           str(tmp_path / "ws")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "ws/install/cartpole_bringup/lib/cartpole_bringup/sim").is_file()
