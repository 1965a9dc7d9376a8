"""Recordings are rosbag2 bags: they decode to exactly the values sent, for every port
type; rosbags reads every message from the bag's own ``ros2msg`` schemas; a part cut
short by a killed process keeps what came before the cut."""

import re
import shutil
import time

import numpy as np
import pytest
import yaml
from mcap.records import Message
from mcap.stream_reader import StreamReader
from rosbags.highlevel import AnyReader
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

from like_keras import Array, Component, Msg, Output, System, msgs
from like_keras.errors import RecordError
from like_keras.msgs.ros import sensor_msgs
from like_keras.recording import PartWriter, read_messages, write_bag
from like_keras.recording.part import read_part


class Sample(Msg):
    name: str
    blob: bytes
    pose: msgs.Pose
    grid: Array(np.int16, (2, None))
    tags: list[str]


SCAN = sensor_msgs.LaserScan(msgs.Header(msgs.Time(3, 4), "laser"), -1.5, 1.5, 0.25, 0.0, 0.125, 0.0625, 30.0,
                             np.array([1.0, np.inf, 2.5], np.float32), np.zeros(3, np.float32))

VALUES = {
    "flag": (bool, [True, False]),
    "count": (int, [0, -(2**62), 2**62]),
    "level": (float, [0.5, -1e300, float("inf")]),
    "f32": (np.float32, [float(np.float32(0.1)), -3.5]),
    "u8": (np.uint8, [0, 255]),
    "text": (str, ["", "naïve \"quoted\"\nnew line"]),
    "raw": (bytes, [b"", b"\x00", b"\xff\x00\x01\xfe", bytes(range(256))]),
    "image": (Array(np.uint8, (2, 3)), [np.arange(6, dtype=np.uint8).reshape(2, 3)]),
    "vec": (Array(np.float32, (None,)), [np.array([1.5, -2.25, 3e-8], np.float32), np.zeros(0, np.float32)]),
    "weights": (list[float], [[0.25, -1.0], []]),
    "sample": (Sample, [Sample("a", b"\x00\xff", msgs.Pose(), np.array([[1, -2, 3], [4, 5, -6]], np.int16),
                               ["x", "y"])]),
    "scan": (sensor_msgs.LaserScan, [SCAN]),
}


def everything(values=VALUES):
    ports = {name: Output(t) for name, (t, _) in values.items()}

    def step(self):
        k = self.k = getattr(self, "k", -1) + 1
        return {name: vs[k] for name, (_, vs) in values.items() if k < len(vs)}

    Source = type("Source", (Component,), {**ports, "rate_hz": 10.0, "step": step})
    return System(name="rec", components=[Source(name="src")])


def same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    return a == b and type(a) is type(b)


def test_every_type_reads_back_exactly():
    n = max(len(v) for _, v in VALUES.values())
    result = everything().launch(iterations=n, record=[f"src.{name}" for name in VALUES])
    got = read_messages(result.recording)
    assert set(got) == {f"src.{name}" for name in VALUES}
    for name, (_, values) in VALUES.items():
        back = got[f"src.{name}"]
        assert len(back) == len(values) and all(same(b, v) for b, v in zip(back, values)), (name, back)
    assert result.messages("src.scan") == [SCAN]


def test_rosbags_reads_every_message_from_the_bags_own_schemas():
    n = max(len(v) for _, v in VALUES.values())
    result = everything().launch(iterations=n, record=[f"src.{name}" for name in VALUES])
    with AnyReader([result.recording]) as reader:  # a typestore built from the bag's ros2msg schemas only
        types = {c.topic: c.msgtype for c in reader.connections}
        decoded = {}
        for conn, _, raw in reader.messages():
            decoded.setdefault(conn.topic, []).append(reader.deserialize(raw, conn.msgtype))
        sample_def = next(c for c in reader.connections if c.topic == "/rec/src/sample").msgdef.data
    assert types["/rec/src/scan"] == "sensor_msgs/msg/LaserScan"
    assert types["/rec/src/sample"] == "rec_interfaces/msg/Sample"  # as on the ROS 2 transport
    assert types["/rec/src/count"] == "std_msgs/msg/Int64" and types["/rec/src/u8"] == "std_msgs/msg/UInt8"
    assert [m.data for m in decoded["/rec/src/count"]] == VALUES["count"][1]
    (sample,) = decoded["/rec/src/sample"]
    assert (sample.name, list(sample.grid), list(sample.grid_shape), sample.tags) == (
        "a", [1, -2, 3, 4, 5, -6], [2, 3], ["x", "y"])
    assert "int16[] grid\nuint32[] grid_shape\n" in sample_def and "MSG: geometry_msgs/Pose\n" in sample_def
    (scan,) = decoded["/rec/src/scan"]
    assert (scan.header.frame_id, scan.range_max, list(scan.ranges)) == ("laser", 30.0, [1.0, np.inf, 2.5])
    assert sum(map(len, decoded.values())) == sum(len(v) for _, v in VALUES.values())


def test_metadata_says_what_a_ros2_bag_says():
    result = everything().launch(iterations=2, record=["src.count", "src.raw"])
    info = yaml.safe_load((result.recording / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert info["version"] == 9 and info["storage_identifier"] == "mcap" and info["message_count"] == 4
    topics = {t["topic_metadata"]["name"]: t for t in info["topics_with_message_count"]}
    assert topics["/rec/src/count"]["message_count"] == 2 and topics["/rec/src/raw"]["message_count"] == 2
    assert topics["/rec/src/raw"]["topic_metadata"]["type"] == "std_msgs/msg/UInt8MultiArray"
    assert topics["/rec/src/raw"]["topic_metadata"]["type_description_hash"].startswith("RIHS01_")


def test_parts_merge_into_one_bag_in_send_order(tmp_path):
    graph = everything().build()
    a = PartWriter(tmp_path / "rec" / "a.mcap", graph, frozenset({("src", "count"), ("src", "raw")}))
    b = PartWriter(tmp_path / "rec" / "b.mcap", graph, frozenset({("src", "text"), ("src", "flag")}))
    for k, t in enumerate([30, 10, 20]):  # a clock that went back: the part keeps the send order
        a.write("src", "count", k, time_ns=t)
    a.write("src", "raw", b"", time_ns=25)  # never before the part's previous message
    b.write("src", "text", "x", time_ns=15)
    b.write("src", "text", "y", time_ns=16)
    bag = write_bag([a.close(), b.close()], tmp_path / "out" / "bag")  # its folder is made
    assert read_messages(bag) == {"src.count": [0, 1, 2], "src.raw": [b""], "src.text": ["x", "y"],
                                  "src.flag": []}
    with AnyReader([bag]) as reader:
        times = [t for _, t, _ in reader.messages()]
        assert {c.topic for c in reader.connections} == {"/rec/src/count", "/rec/src/raw", "/rec/src/text",
                                                         "/rec/src/flag"}  # a silent port is still there
    assert times == sorted(times) == [15, 16, 30, 31, 32, 32]
    with open(bag / "bag.mcap", "rb") as f:  # in time order in the file too, as streaming readers need
        in_file = [r.log_time for r in StreamReader(f).records if isinstance(r, Message)]
    assert in_file == times
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["bag"]  # nothing left aside
    with pytest.raises(Exception, match="only be added once"):  # two parts record one port: refused
        write_bag([a.path, a.path], tmp_path / "out" / "twice")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["bag"]  # and nothing half-written


def test_a_part_cut_short_by_a_kill_keeps_every_message_before_the_cut(tmp_path):
    graph = everything().build()
    writer = PartWriter(tmp_path / "part.mcap", graph, frozenset({("src", "count")}))
    for k in range(50):
        writer.write("src", "count", k, time_ns=k + 1)
    writer._file.flush()  # what the OS has when the process dies (no finish, no footer)
    data = (tmp_path / "part.mcap").read_bytes()
    seen = []
    for cut in sorted({len(data), len(data) - 1, len(data) - 7, len(data) // 2, len(data) // 3 + 5}):
        (tmp_path / "cut.mcap").write_bytes(data[:cut])
        part = read_part(tmp_path / "cut.mcap")
        counts = [int.from_bytes(m[2][4:12], "little") for m in part.messages()]
        assert counts == list(range(len(counts))), cut  # a prefix, in order
        assert not part.complete or cut == len(data)
        seen.append(len(counts))
    assert seen == sorted(seen) and seen[-1] == 50 and seen[0] > 0
    bag = write_bag([tmp_path / "cut.mcap"], tmp_path / "bag")
    assert read_messages(bag)["src.count"] == list(range(50))


def test_a_port_with_no_ros_message_is_refused_naming_it():
    with pytest.raises(RecordError, match=re.escape("record: 'src.names' cannot go in a rosbag2 bag")):
        everything({"names": (list[str], [["a"]])}).launch(iterations=1, record=["src.names"])


def test_a_bag_recorded_elsewhere_reads_back_as_catalog_messages(tmp_path):
    store = get_typestore(Stores.ROS2_JAZZY)
    T = store.types
    with Writer(tmp_path / "robot", version=9, storage_plugin=StoragePlugin.MCAP) as writer:  # as a robot would
        conn = writer.add_connection("/scan", "sensor_msgs/msg/LaserScan", typestore=store)
        for k in range(3):
            header = T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](sec=k, nanosec=0),
                                              frame_id="laser")
            scan = T["sensor_msgs/msg/LaserScan"](
                header=header, angle_min=-1.0, angle_max=1.0, angle_increment=0.5, time_increment=0.0,
                scan_time=0.1, range_min=0.1, range_max=10.0, ranges=np.full(5, k, np.float32),
                intensities=np.zeros(0, np.float32))
            writer.write(conn, (k + 1) * 100_000_000, store.serialize_cdr(scan, "sensor_msgs/msg/LaserScan"))
    scans = read_messages(tmp_path / "robot")["/scan"]
    assert [type(s) for s in scans] == [sensor_msgs.LaserScan] * 3
    assert [s.header.stamp.sec for s in scans] == [0, 1, 2] and np.array_equal(scans[2].ranges, [2.0] * 5)


def test_record_names_an_input_by_what_feeds_it():
    from like_keras import Input
    from like_keras.recording import parse_record

    class Src(Component):
        out = Output(int)
        rate_hz = 1.0

        def step(self):
            return 1

    class Sink(Component):
        x = Input(int)
        z = Input(int)

        def step(self, x, z):
            pass

    a, d, b = Src(name="a"), Src(name="d"), Sink(name="b")
    # In both orders, so that a comparison other than equality would pick the wrong one.
    for connections in ([(d.out, b.z), (a.out, b.x)], [(a.out, b.x), (d.out, b.z)]):
        graph = System(name="s", components=[a, d, b], connections=connections).build()
        for port, source in (("b.x", "a.out"), ("b.z", "d.out")):
            with pytest.raises(RecordError, match=re.escape(
                    f"'{port}' is not an output port of 'b': it is an input fed by '{source}', record that. "
                    f"Its outputs: none")):
                parse_record(graph, [port])
    with pytest.raises(RecordError, match=re.escape("'a.nope' is not an output port of 'a'. Its outputs: out")):
        parse_record(graph, ["a.nope"])
    assert parse_record(graph, ["a.out", "d.out"]) == {("a", "out"), ("d", "out")}


def test_a_part_reaches_the_disk_at_least_every_flush_interval(tmp_path):
    from like_keras.recording.part import FLUSH_S

    writer = PartWriter(tmp_path / "rec" / "deep" / "part.mcap", everything().build(),
                        frozenset({("src", "count")}))  # its folders are made
    writer.write("src", "count", 1, time_ns=1)
    time.sleep(FLUSH_S * 1.2)
    writer.write("src", "count", 2, time_ns=2)  # a kill -9 now loses nothing written before
    on_disk = read_part(tmp_path / "rec" / "deep" / "part.mcap")
    assert [int.from_bytes(data[4:12], "little") for _, _, data in on_disk.messages()] == [1, 2]
    assert not on_disk.complete  # no footer yet: the writer still runs
    writer.close()


def test_closing_a_part_twice_is_harmless(tmp_path):
    writer = PartWriter(tmp_path / "part.mcap", everything().build(), frozenset({("src", "count")}))
    writer.close()
    writer.close()
    part = read_part(tmp_path / "part.mcap")
    assert list(part.messages()) == [] and part.complete
    shutil.rmtree(tmp_path)


def test_an_idle_node_flushes_what_it_sent_before_the_silence(tmp_path):
    from like_keras.recording.part import FLUSH_S

    writer = PartWriter(tmp_path / "part.mcap", everything().build(), frozenset({("src", "count")}))
    writer.write("src", "count", 7, time_ns=1)
    time.sleep(FLUSH_S * 1.2)
    writer.flush_due()  # what the runners call while they wait for events
    assert [int.from_bytes(d[4:12], "little") for _, _, d in read_part(tmp_path / "part.mcap").messages()] == [7]
    writer.close()


def test_writes_are_batched_between_flushes(tmp_path, monkeypatch):
    # A recorded port costs no system call per message: within a flush interval the
    # messages wait in the process (a kill loses at most that interval, as said).
    from like_keras.recording import part

    monkeypatch.setattr(part, "FLUSH_S", 60.0)  # however slow this machine, no interval passes here
    writer = PartWriter(tmp_path / "part.mcap", everything().build(), frozenset({("src", "count")}))
    declared = (tmp_path / "part.mcap").stat().st_size  # the header, schemas and channels: on disk at once
    for k in range(50):
        writer.write("src", "count", k, time_ns=k + 1)
    writer.flush_due()
    assert (tmp_path / "part.mcap").stat().st_size == declared
    writer.close()
    assert [int.from_bytes(d[4:12], "little") for _, _, d in read_part(tmp_path / "part.mcap").messages()] == list(
        range(50))
