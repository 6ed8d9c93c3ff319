"""Recording a rolling playlist into a VOD replay, safe file names, the replay clock."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from liveshop.video.hls import Recording, new_folder_name, parse_playlist, safe_path
from liveshop.video.timeline import VideoClock


def rolling(first: int, count: int, *, disc_at: int | None = None) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-MEDIA-SEQUENCE:{first}"]
    lines.append("#EXT-X-TARGETDURATION:2")
    for n in range(first, first + count):
        if n == disc_at:
            lines.append("#EXT-X-DISCONTINUITY")
        lines += ["#EXTINF:1.000,", f"{n}.ts"]
    return "\n".join(lines) + "\n"


def test_parse_playlist_reads_durations_and_discontinuities() -> None:
    segs = parse_playlist(rolling(3, 3, disc_at=4))
    assert [(s.uri, s.duration, s.discontinuity) for s in segs] == [
        ("3.ts", 1.0, False),
        ("4.ts", 1.0, True),
        ("5.ts", 1.0, False),
    ]


def test_recording_keeps_every_segment_of_a_rolling_playlist(tmp_path: Path) -> None:
    rec = Recording(tmp_path)
    assert rec.poll() == [] and rec.write_replay() is None  # nothing yet: no replay
    (tmp_path / "index.m3u8").write_text(rolling(0, 3))
    assert [s.uri for s in rec.poll()] == ["0.ts", "1.ts", "2.ts"]
    (tmp_path / "index.m3u8").write_text(rolling(2, 4))  # 0 and 1 rolled out of the window
    assert [s.uri for s in rec.poll()] == ["3.ts", "4.ts", "5.ts"]
    rec.new_publish()  # the encoder reconnected
    (tmp_path / "index.m3u8").write_text(rolling(4, 4))
    assert [(s.uri, s.discontinuity) for s in rec.poll()] == [("6.ts", True), ("7.ts", False)]

    # A restarted app reads the same recording back from disk.
    again = Recording(tmp_path)
    assert [s.uri for s in again.segments] == [f"{n}.ts" for n in range(8)]
    assert again.duration_ms == 8000

    replay = (again.write_replay() or tmp_path / "missing").read_text().splitlines()
    assert replay[:5] == [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-TARGETDURATION:1",
        "#EXT-X-MEDIA-SEQUENCE:0",
    ]
    assert [line for line in replay if line.endswith(".ts")] == [f"{n}.ts" for n in range(8)]
    assert replay[replay.index("6.ts") - 2] == "#EXT-X-DISCONTINUITY"
    assert replay[-1] == "#EXT-X-ENDLIST"


def test_safe_path_only_knows_our_own_names(tmp_path: Path) -> None:
    folder = new_folder_name(42)
    assert safe_path(tmp_path, folder, "index.m3u8") == (tmp_path / folder / "index.m3u8").resolve()
    assert safe_path(tmp_path, folder, "17.ts") is not None
    for folder_name, name in [
        ("..", "index.m3u8"),
        (folder, "../../etc/passwd"),
        (folder, "..%2f..%2fetc"),
        (folder, "/etc/passwd"),
        (folder, "recording.txt"),
        (folder, "nginx.conf"),
        ("/etc", "passwd"),
        ("s42-0123456789ab/..", "index.m3u8"),
        (folder, "1.ts/.."),
        (folder, "1.ts\n"),
    ]:
        assert safe_path(tmp_path, folder_name, name) is None, (folder_name, name)


def test_clock_offsets_skip_the_gaps_between_publishes() -> None:
    clock = VideoClock()
    assert clock.offset(1_000.0) == 0  # before any video
    clock.started(10_000.0)
    assert clock.offset(12_500.0) == 2_500
    clock.stopped(15_000.0)
    assert clock.offset(20_000.0) == 5_000  # reconnecting: the replay has no gap
    clock.started(30_000.0)
    assert clock.offset(31_000.0) == 6_000
    assert clock.offset(14_000.0) == 4_000  # a late event still lands where it happened


@given(st.lists(st.tuples(st.integers(1, 10_000), st.integers(0, 10_000)), max_size=8))
def test_clock_offsets_never_go_backwards(spans: list[tuple[int, int]]) -> None:
    """Whatever the publishes and gaps, later events never get earlier offsets."""
    clock, t, probes = VideoClock(), 0.0, []
    for length, gap in spans:
        clock.started(t)
        probes += [t, t + length / 2]
        t += length
        clock.stopped(t)
        probes += [t, t + gap / 2]
        t += gap
    offsets = [clock.offset(p) for p in probes]
    assert offsets == sorted(offsets)
    assert offsets[-1:] in ([], [sum(length for length, _ in spans)])
