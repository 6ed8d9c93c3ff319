"""HLS on disk: reading nginx's rolling playlist, keeping every segment, the VOD replay.

nginx-rtmp writes a *rolling* ``index.m3u8`` (the last ~10 s) and, with ``hls_cleanup
off``, leaves every segment on disk. Segments are named by the wall clock (epoch ms) at
which their first frame reached the media server (``hls_fragment_naming system``): the
playlists we serve carry it as ``EXT-X-PROGRAM-DATE-TIME`` (``program_date_times``), which
is how a player knows the wall time of the picture it shows (the shelf in step with it,
latency measurement). ``Recording`` polls the rolling playlist while the
stream runs and appends each new segment (name, duration, discontinuity) to
``recording.txt`` in the folder; at the end ``write_replay`` turns that into a VOD
playlist with ``#EXT-X-ENDLIST``. Polling every second cannot miss a segment: one
stays in the rolling playlist for ``hls_playlist_length`` (10 s).

File names reaching the disk are checked against strict patterns, never joined raw.
"""

from __future__ import annotations

import math
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SEGMENT_NAME = re.compile(r"[0-9]{1,13}\.ts")
# Names from hls_fragment_naming system: epoch ms (2001-09-09 … 2286); shorter ones are
# sequence numbers (older recordings), which carry no time.
WALL_CLOCK_NAME = re.compile(r"([0-9]{13})\.ts")
FOLDER_NAME = re.compile(r"s[0-9]{1,18}-[0-9a-f]{12}")
LIVE_PLAYLIST = "index.m3u8"
REPLAY_PLAYLIST = "replay.m3u8"
POSTER = "poster.jpg"
RECORDING = "recording.txt"
SERVED_NAMES = frozenset({LIVE_PLAYLIST, REPLAY_PLAYLIST, POSTER})


def new_folder_name(session_id: int) -> str:
    """The public stream name (and HLS folder) of a session: never derived from the key."""
    return f"s{session_id}-{secrets.token_hex(6)}"


def servable(name: str) -> bool:
    return name in SERVED_NAMES or SEGMENT_NAME.fullmatch(name) is not None


def safe_path(root: Path, folder: str, name: str) -> Path | None:
    """``root/folder/name`` if both parts are names we write and it stays under root."""
    if FOLDER_NAME.fullmatch(folder) is None or not servable(name):
        return None
    base = root.resolve()
    path = (base / folder / name).resolve()
    if not path.is_relative_to(base):
        return None
    return path


@dataclass(frozen=True, slots=True)
class Segment:
    uri: str
    duration: float
    discontinuity: bool = False


def parse_playlist(text: str) -> list[Segment]:
    """The media segments of an HLS media playlist (tags other than these are ignored)."""
    out: list[Segment] = []
    duration: float | None = None
    discontinuity = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#EXTINF:"):
            value = line[len("#EXTINF:") :].split(",", 1)[0]
            try:
                duration = float(value)
            except ValueError:
                duration = None
        elif line == "#EXT-X-DISCONTINUITY":
            discontinuity = True
        elif not line.startswith("#"):
            if duration is not None:
                out.append(Segment(line, duration, discontinuity))
            duration, discontinuity = None, False
    return out


def segment_wall_ms(uri: str) -> int | None:
    """The wall time (epoch ms) a segment's first frame arrived, from its name."""
    m = WALL_CLOCK_NAME.fullmatch(uri)
    return int(m.group(1)) if m else None


def replay_offset_ms(segments: list[Segment], at_ms: float) -> int | None:
    """Where wall time ``at_ms`` falls in a replay of ``segments`` (ms from its first
    picture): inside the segment whose picture arrived then; before the first picture or in
    a gap between publishes, the start of the next segment; after the last, the end. None if
    a segment's name carries no wall time (an older recording)."""
    position = 0.0
    for seg in segments:
        start = segment_wall_ms(seg.uri)
        if start is None:
            return None
        length = seg.duration * 1000
        if at_ms < start:
            return round(position)
        if at_ms < start + length:
            return round(position + at_ms - start)
        position += length
    return round(position)


def _pdt(ms: int) -> str:
    when = datetime.fromtimestamp(ms / 1000, UTC)
    return f"#EXT-X-PROGRAM-DATE-TIME:{when.strftime('%Y-%m-%dT%H:%M:%S')}.{ms % 1000:03d}Z"


SERVER_CONTROL = "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES"


def program_date_times(text: str) -> str:
    """nginx-rtmp's playlist with ``EXT-X-PROGRAM-DATE-TIME`` before each wall-clock-named
    segment (nginx-rtmp cannot write the tag itself), and ``EXT-X-SERVER-CONTROL`` saying that
    a player may ask for the next segment's playlist and be answered when it exists
    (``_HLS_msn``, blocking playlist reload: the app holds the request, see ``last_sequence``)."""
    out: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith(("#EXT-X-PROGRAM-DATE-TIME", "#EXT-X-SERVER-CONTROL")):
            continue
        if line == "#EXTM3U":
            out.extend((raw, SERVER_CONTROL))
            continue
        if line and not line.startswith("#"):
            ms = segment_wall_ms(line)
            if ms is not None:  # applies to the next URI, like EXTINF
                out.append(_pdt(ms))
        out.append(raw)
    return "\n".join(out) + "\n"


def last_sequence(text: str) -> int | None:
    """The media sequence number of a playlist's newest segment (None: no segment yet)."""
    first = 0
    count = 0
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            try:
                first = int(line.split(":", 1)[1])
            except ValueError:
                return None
        elif line and not line.startswith("#"):
            count += 1
    return first + count - 1 if count else None


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class Recording:
    """Every segment a stream folder ever had, in order (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.segments: list[Segment] = []
        self._known: set[str] = set()
        self._next_discontinuity = False
        self._load()

    def _load(self) -> None:
        path = self.folder / RECORDING
        if not path.exists():
            return
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) < 2 or SEGMENT_NAME.fullmatch(parts[1]) is None:
                continue
            try:
                seg = Segment(parts[1], float(parts[0]), len(parts) > 2 and parts[2] == "d")
            except ValueError:
                continue
            if seg.uri not in self._known:
                self._known.add(seg.uri)
                self.segments.append(seg)

    def new_publish(self) -> None:
        """An encoder (re)connected: its first segment starts a new timeline."""
        if self.segments:
            self._next_discontinuity = True

    def poll(self) -> list[Segment]:
        """Take the new segments of the rolling playlist; returns them."""
        try:
            text = (self.folder / LIVE_PLAYLIST).read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            return []
        added: list[Segment] = []
        for seg in parse_playlist(text):
            if seg.uri in self._known or SEGMENT_NAME.fullmatch(seg.uri) is None:
                continue
            disc = bool(self.segments or added) and (seg.discontinuity or self._next_discontinuity)
            self._next_discontinuity = False
            added.append(Segment(seg.uri, seg.duration, disc))
            self._known.add(seg.uri)
        if added:
            with (self.folder / RECORDING).open("a", encoding="utf-8") as f:
                for seg in added:
                    f.write(f"{seg.duration:.3f} {seg.uri}{' d' if seg.discontinuity else ''}\n")
            self.segments.extend(added)
        return added

    @property
    def duration_ms(self) -> int:
        return round(sum(s.duration for s in self.segments) * 1000)

    def newest(self) -> Path | None:
        return self.folder / self.segments[-1].uri if self.segments else None

    def write_replay(self) -> Path | None:
        """Write ``replay.m3u8`` (VOD, ENDLIST) from every recorded segment; None if none."""
        if not self.segments:
            return None
        target = max(1, math.ceil(max(s.duration for s in self.segments)))
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:3",
            "#EXT-X-PLAYLIST-TYPE:VOD",
            f"#EXT-X-TARGETDURATION:{target}",
            "#EXT-X-MEDIA-SEQUENCE:0",
        ]
        for seg in self.segments:
            if seg.discontinuity:
                lines.append("#EXT-X-DISCONTINUITY")
            ms = segment_wall_ms(seg.uri)
            if ms is not None:
                lines.append(_pdt(ms))
            lines.append(f"#EXTINF:{seg.duration:.3f},")
            lines.append(seg.uri)
        lines.append("#EXT-X-ENDLIST")
        path = self.folder / REPLAY_PLAYLIST
        _write_atomic(path, "\n".join(lines) + "\n")
        return path
