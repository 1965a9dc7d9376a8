"""The ``<system>_interfaces`` package: a ROS 2 message per user ``Msg`` type.

An ament_cmake package with ``rosidl_default_generators``: package.xml, CMakeLists.txt
and ``msg/<Name>.msg`` (see ``like_keras.msgs.ros_mapping.msg_definition``). Written only when the system
uses its own Msg types; replaced as a whole when compiled again.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from like_keras.errors import InvalidNameError
from like_keras.graph.ir import SystemGraph
from like_keras.msgs.ros_mapping import catalog_type, graph_user_msgs, interfaces_name, msg_classes, msg_definition
from like_keras.utils.files import replace_tree

_MSG_NAME = re.compile(r"[A-Z][A-Za-z0-9]*\Z")
_FIELD_NAME = re.compile(r"(?!.*__)(?!.*_\Z)[a-z][a-z0-9_]*\Z")
_MAINTAINER = ("like-keras team", "team@like-keras.dev")


def user_msgs(graph: SystemGraph) -> list[type]:
    """The user Msg classes the system's ports carry, each once, dependencies first, their
    names checked for ROS 2."""
    out = graph_user_msgs(graph)
    names = {}
    for cls in out:
        _check_names(cls)
        if names.setdefault(cls.__name__, cls) is not cls:
            raise InvalidNameError(
                f"two Msg classes are named {cls.__name__} ({names[cls.__name__].__module__} and "
                f"{cls.__module__}): ROS 2 needs one message per name in a package; rename one"
            )
    return out


def _check_names(cls: type) -> None:
    if not _MSG_NAME.match(cls.__name__):
        raise InvalidNameError(f"Msg {cls.__qualname__}: a ROS 2 message name is CamelCase letters and digits")
    for name in cls.__lk_fields__:
        if not _FIELD_NAME.match(name):
            raise InvalidNameError(
                f"Msg {cls.__qualname__}.{name}: a ROS 2 field name is lower_snake_case "
                f"(a-z, 0-9, '_', no '__', no trailing '_')"
            )


def _dependencies(classes: list[type]) -> list[str]:
    """The ROS packages of the catalog messages that the user messages use."""
    used = {catalog_type(c).split("/")[0] for cls in classes for c in msg_classes(cls) if catalog_type(c)}
    return sorted(used)


def package_xml(name: str, description: str, build_type: str, *, buildtool: Sequence[str] = (),
                depends: Sequence[str] = (), exec_depends: Sequence[str] = (), test_depends: Sequence[str] = (),
                groups: Sequence[str] = ()) -> str:
    """A format-3 package.xml, built with an XML serialiser."""
    root = ET.Element("package", format="3")
    for tag, text in (("name", name), ("version", "0.0.0"), ("description", description)):
        ET.SubElement(root, tag).text = text
    ET.SubElement(root, "maintainer", email=_MAINTAINER[1]).text = _MAINTAINER[0]
    ET.SubElement(root, "license").text = "Apache-2.0"
    for tag, items in (("buildtool_depend", buildtool), ("depend", depends), ("exec_depend", exec_depends),
                       ("test_depend", test_depends), ("member_of_group", groups)):
        for item in items:
            ET.SubElement(root, tag).text = item
    export = ET.SubElement(root, "export")
    ET.SubElement(export, "build_type").text = build_type
    ET.indent(root, "  ")
    body = ET.tostring(root, encoding="unicode")
    return (
        '<?xml version="1.0"?>\n'
        '<?xml-model href="http://download.ros.org/schema/package_format3.xsd" '
        'schematypens="http://www.w3.org/2001/XMLSchema"?>\n' + body + "\n"
    )


def write_interfaces(graph: SystemGraph, src: Path) -> Path | None:
    """Write ``src/<system>_interfaces`` (atomically, replacing an old one); None if no user Msg."""
    classes = user_msgs(graph)
    name = interfaces_name(graph)
    target = Path(src) / name
    if not classes:
        return None
    deps = _dependencies(classes)
    files = {
        "package.xml": package_xml(
            name, f"Messages of the like-keras system '{graph.name}' (generated).", "ament_cmake",
            buildtool=["ament_cmake", "rosidl_default_generators"], depends=deps,
            exec_depends=["rosidl_default_runtime"], groups=["rosidl_interface_packages"],
        ),
        "CMakeLists.txt": _cmakelists(name, classes, deps),
    }
    for cls in classes:
        files[f"msg/{cls.__name__}.msg"] = msg_definition(cls, name)
    return replace_tree(target, files)


def _cmakelists(name: str, classes: list[type], deps: list[str]) -> str:
    # Every name here was validated above (package and message name patterns).
    lines = ["cmake_minimum_required(VERSION 3.8)", f"project({name})", "",
             "find_package(ament_cmake REQUIRED)", "find_package(rosidl_default_generators REQUIRED)"]
    lines += [f"find_package({d} REQUIRED)" for d in deps]
    lines += ["", "rosidl_generate_interfaces(${PROJECT_NAME}"]
    lines += [f'  "msg/{cls.__name__}.msg"' for cls in classes]
    if deps:
        lines.append(f"  DEPENDENCIES {' '.join(deps)}")
    lines += [")", "", "ament_export_dependencies(rosidl_default_runtime)", "ament_package()", ""]
    return "\n".join(lines)
