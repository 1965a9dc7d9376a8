"""The repository is a colcon workspace of three ament_python packages."""

import shutil
import subprocess
import sys

import pytest
from catkin_pkg.package import parse_package_string

from conftest import ROOT, tool

PACKAGES = ["like_keras", "like_keras_examples", "like_keras_ros"]


@pytest.mark.parametrize("pkg", PACKAGES)
def test_package_xml_is_format_3_ament_python(pkg):
    xml = (ROOT / "src" / pkg / "package.xml").read_text()
    package = parse_package_string(xml)
    package.validate()
    assert package.name == pkg and package.package_format == 3
    assert package.get_build_type() == "ament_python"  # a missing build_type would silently mean catkin
    assert (ROOT / "src" / pkg / "resource" / pkg).is_file()
    setup_cfg = (ROOT / "src" / pkg / "setup.cfg").read_text()
    assert f"script_dir=$base/lib/{pkg}" in setup_cfg and f"install_scripts=$base/lib/{pkg}" in setup_cfg


def test_colcon_build_builds_all_three_packages(tmp_path):
    colcon = tool("colcon")
    ws = tmp_path / "ws"
    shutil.copytree(ROOT / "src", ws / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    shutil.copy(ROOT / "colcon.meta", ws / "colcon.meta")
    proc = subprocess.run([colcon, "build"], cwd=ws, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 packages finished" in proc.stdout
    install = ws / "install"
    for pkg in PACKAGES:
        assert (install / pkg / "share/ament_index/resource_index/packages" / pkg).is_file()
        assert (install / pkg / "share" / pkg / "package.xml").is_file()
    # Executables land in lib/<pkg>, where `ros2 run` looks, not in bin/.
    for exe in ("lk", "like-keras"):
        assert (install / "like_keras/lib/like_keras" / exe).is_file()
    assert not (install / "like_keras/bin").exists()
    # The installed CLI works from the install space, importing the installed packages.
    lk = install / "like_keras/lib/like_keras/lk"
    script = (
        f". {install / 'setup.sh'} && {lk} check like_keras_examples.cartpole:CartPole && "
        f"{sys.executable} -c 'import like_keras_examples; print(like_keras_examples.__file__)'"
    )
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "ok: system 'cartpole'" in proc.stdout
    assert str(install / "like_keras_examples") in proc.stdout


def test_colcon_finds_exactly_the_three_packages_at_the_repo_root():
    colcon = tool("colcon")
    proc = subprocess.run([colcon, "list", "--names-only"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert sorted(proc.stdout.split()) == PACKAGES
