"""The embedded media server: nginx with Debian's RTMP module, configured and supervised.

Two RTMP applications (checked against the module's source, ngx_rtmp_notify_module.c):

- ``live`` is where encoders publish (``rtmp://HOST:1935/live/<stream key>``). Its
  ``on_publish`` asks liveshop; a 403 refuses the publisher before anything is written,
  a 3xx whose ``Location`` is a plain name *renames* the stream to it (a ``rtmp://``
  Location would start a relay instead). It then pushes the stream, under the new name,
  to ``hls`` on the same server.
- ``hls`` accepts publishers from this host only and packages HLS into
  ``<video_dir>/hls/<name>/``. It has to be a second application: in the module's chain
  the HLS handler runs *before* the notify redirect, so in one application the folder
  would be named after the key.

nginx runs in the foreground as our child (own process group, dies with us), its log is
piped into structlog with stream keys redacted, and it is restarted with backoff when it
exits unexpectedly.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import grp
import os
import pwd
import re
import shutil
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

from liveshop.video.redact import redact_line

log = structlog.get_logger("liveshop.video.nginx")

RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 30.0
STABLE_AFTER_S = 30.0  # a run this long resets the backoff
READY_TIMEOUT_S = 10.0

_LINE = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(\w+)\] \d+#\d+: (?:\*\d+ )?(.*)$")
_LEVELS = {
    "debug": "debug",
    "info": "debug",
    "notice": "info",
    "warn": "warning",
    "error": "error",
    "crit": "critical",
    "alert": "critical",
    "emerg": "critical",
}


@dataclass(frozen=True, slots=True)
class NginxConfig:
    video_dir: Path
    callback_base: str  # how nginx reaches liveshop, e.g. http://127.0.0.1:8000
    callback_secret: str
    rtmp_bind: str = "127.0.0.1"
    rtmp_port: int = 1935
    http_port: int = 0  # nginx's HTTP (publisher control) on 127.0.0.1; 0: none
    nginx_bin: str = "nginx"
    module_path: Path = RTMP_MODULE
    # Cut at the first keyframe ≥ this far in: just under 1 s, so an encoder with keyframes
    # every 1 s (timestamps jitter) gets 1-s segments, not 1-s and 2-s ones by turns.
    fragment_ms: int = 900
    max_fragment_s: int = 20
    playlist_s: int = 10

    @property
    def hls_dir(self) -> Path:
        return self.video_dir / "hls"

    @property
    def conf_path(self) -> Path:
        return self.video_dir / "nginx.conf"

    @property
    def pid_path(self) -> Path:
        return self.video_dir / "nginx.pid"

    @property
    def push_host(self) -> str:
        return "127.0.0.1" if self.rtmp_bind in ("", "0.0.0.0", "127.0.0.1") else self.rtmp_bind


def find_nginx(name: str = "nginx") -> str | None:
    """The nginx binary: on PATH, or Debian's /usr/sbin (not on non-root users' PATH)."""
    found = shutil.which(name)
    if found is None and "/" not in name:
        found = shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    return found


def missing_tools(nginx_bin: str = "nginx", module_path: Path = RTMP_MODULE) -> list[str]:
    """What is missing for the embedded media server (empty: all there)."""
    missing = []
    if find_nginx(nginx_bin) is None:
        missing.append(f"{nginx_bin} (Debian package nginx)")
    if not module_path.exists():
        missing.append(f"{module_path} (Debian package libnginx-mod-rtmp)")
    return missing


def _q(value: object) -> str:
    text = str(value)
    if any(c in text for c in '"\\;{}\n'):
        raise ValueError(f"unsafe value for nginx.conf: {text!r}")
    return f'"{text}"'


def _worker_user() -> tuple[str, str, int, int] | None:
    """As root, nginx workers run as ``nobody``: they parse untrusted RTMP."""
    if os.geteuid() != 0:
        return None
    try:
        user = pwd.getpwnam("nobody")
        group = grp.getgrgid(user.pw_gid)
    except KeyError:
        return None
    return user.pw_name, group.gr_name, user.pw_uid, user.pw_gid


def render_conf(c: NginxConfig) -> str:
    cb = c.callback_base.rstrip("/")
    secret = c.callback_secret
    user = _worker_user()
    lines = [
        "# Written by liveshop (liveshop/video/media_server.py) at every start: edits are lost.",
        f"load_module {_q(c.module_path)};",
        f"user {user[0]} {user[1]};" if user else "",
        "daemon off;",
        "master_process on;",
        "worker_processes 1;",
        f"pid {_q(c.pid_path)};",
        "error_log stderr info;",  # info lines are debug in our log
        "events { worker_connections 1024; }",
        "rtmp {",
        "    access_log off;",
        "    server {",
        f"        listen {c.rtmp_bind or '0.0.0.0'}:{c.rtmp_port};",
        "        chunk_size 4096;",
        "        notify_method post;",
        "        application live {",
        "            live on;",
        "            deny play all;",
        "            drop_idle_publisher 10s;",
        # What leaves ``live`` (the relay to ``hls``, simulcast pushes) starts on a video
        # keyframe, and audio waits for the first video frame: an encoder that sends audio
        # first, or a relay that joins mid-GOP, never makes a segment without a picture.
        "            wait_key on;",
        "            wait_video on;",
        f"            on_publish {_q(f'{cb}/internal/video/on_publish?s={secret}')};",
        f"            on_publish_done {_q(f'{cb}/internal/video/on_publish_done?s={secret}')};",
        f"            push rtmp://{c.push_host}:{c.rtmp_port}/hls;",
        "        }",
        "        application hls {",
        "            live on;",
        f"            allow publish {c.push_host};",
        "            deny publish all;",
        # Simulcast relays (ffmpeg on this host) read the renamed stream from here.
        f"            allow play {c.push_host};",
        "            deny play all;",
        "            wait_key on;",
        "            wait_video on;",
        "            hls on;",
        f"            hls_path {_q(c.hls_dir)};",
        "            hls_nested on;",
        f"            hls_fragment {c.fragment_ms}ms;",
        # Segments are cut on keyframes only, so they are a GOP long (at least
        # hls_fragment); the default cap (10 x hls_fragment) would cut mid-GOP.
        f"            hls_max_fragment {c.max_fragment_s}s;",
        # Named by the wall clock (ms) when their first frame arrived: the playlist we
        # serve turns that into EXT-X-PROGRAM-DATE-TIME (see hls.program_date_times).
        "            hls_fragment_naming system;",
        f"            hls_playlist_length {c.playlist_s}s;",
        "            hls_continuous on;",
        "            hls_cleanup off;  # segments stay: they are the replay",
        "        }",
        "    }",
        "}",
    ]
    if c.http_port:
        tmp = c.video_dir / "tmp"
        lines += [
            "http {",
            "    access_log off;",
            f"    client_body_temp_path {_q(tmp / 'body')};",
            f"    proxy_temp_path {_q(tmp / 'proxy')};",
            f"    fastcgi_temp_path {_q(tmp / 'fastcgi')};",
            f"    uwsgi_temp_path {_q(tmp / 'uwsgi')};",
            f"    scgi_temp_path {_q(tmp / 'scgi')};",
            "    server {",
            f"        listen 127.0.0.1:{c.http_port};",
            "        location /control { rtmp_control all; }",
            "        location / { return 404; }",
            "    }",
            "}",
        ]
    return "\n".join(line for line in lines if line) + "\n"


def _untraversable(path: Path, uid: int) -> Path | None:
    """The first folder above ``path`` that user ``uid`` may not pass through, if any."""
    for parent in path.resolve().parents:
        st = parent.stat()
        if st.st_uid != uid and not st.st_mode & 0o001:
            return parent
    return None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: nginx gets SIGTERM if liveshop dies without stopping it."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _kill_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _stale_master(c: NginxConfig) -> int | None:
    """A master left by an earlier run of ours (same config path) that still holds ports."""
    try:
        pid = int(c.pid_path.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if str(c.conf_path).encode() in cmdline else None


class MediaServer:
    """Runs nginx and keeps it running until ``stop``."""

    def __init__(
        self,
        config: NginxConfig,
        *,
        on_exit: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.config = config
        self.on_exit = on_exit
        self.ready = asyncio.Event()
        self.restarts = 0
        self.process: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def prepare(self) -> None:
        """Runtime folders and nginx.conf (0600: it holds the callback secret)."""
        c = self.config
        for d in (c.video_dir, c.hls_dir, c.video_dir / "tmp"):
            d.mkdir(parents=True, exist_ok=True)
        user = _worker_user()
        if user is not None:
            os.chown(c.hls_dir, user[2], user[3])
            blocked = _untraversable(c.hls_dir, user[2])
            if blocked is not None:
                log.error(
                    "nginx workers (user nobody) cannot reach the HLS folder: make this folder "
                    "world-traversable (chmod o+x) or set LIVESHOP_VIDEO_DIR elsewhere",
                    folder=str(blocked),
                )
        fd = os.open(c.conf_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(render_conf(c))
        stale = _stale_master(c)
        if stale is not None:
            log.warning("stopping a media server left by an earlier run", pid=stale)
            _kill_group(stale, signal.SIGKILL)

    async def start(self) -> None:
        self.prepare()
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._supervise())

    async def wait_ready(self, within_s: float = READY_TIMEOUT_S) -> bool:
        try:
            async with asyncio.timeout(within_s):
                await self.ready.wait()
        except TimeoutError:
            return False
        return True

    async def _spawn(self) -> asyncio.subprocess.Process:
        c = self.config
        return await asyncio.create_subprocess_exec(
            find_nginx(c.nginx_bin) or c.nginx_bin,
            "-p",
            str(c.video_dir),
            "-c",
            str(c.conf_path),
            "-e",
            "stderr",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )

    async def _supervise(self) -> None:
        backoff = BACKOFF_MIN_S
        while not self._stopping:
            started = time.monotonic()
            try:
                proc = self.process = await self._spawn()
            except OSError as exc:
                log.error("media server could not start", error=str(exc))
                proc = None
            if proc is not None:
                log.info("media server started", pid=proc.pid, rtmp_port=self.config.rtmp_port)
                pipes = [
                    asyncio.create_task(self._pipe(proc.stderr)),
                    asyncio.create_task(self._pipe(proc.stdout)),
                ]
                ready = asyncio.create_task(self._watch_ready(proc))
                rc = await self._exited(proc)
                ready.cancel()
                self.ready.clear()
                for p in pipes:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await asyncio.wait_for(p, 2)
                if self._stopping:
                    break
                log.error("media server exited; restarting", rc=rc, restart_in_s=backoff)
            if self.on_exit is not None:
                try:
                    await self.on_exit()
                except Exception:
                    log.exception("media server exit handler failed")
            if time.monotonic() - started >= STABLE_AFTER_S:
                backoff = BACKOFF_MIN_S
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_S)
            self.restarts += 1

    @staticmethod
    async def _exited(proc: asyncio.subprocess.Process) -> int:
        """The master's exit code, once its workers are gone too.

        ``Process.wait`` also waits for the pipes to close, and workers orphaned by a
        crashed master keep them (and the ports) open: so watch ``returncode``, then
        kill the rest of the process group."""
        waiter = asyncio.ensure_future(proc.wait())
        while proc.returncode is None and not waiter.done():
            await asyncio.wait({waiter}, timeout=0.2)
        _kill_group(proc.pid, signal.SIGKILL)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter, 5)
        return proc.returncode if proc.returncode is not None else -1

    async def _watch_ready(self, proc: asyncio.subprocess.Process) -> None:
        host = self.config.push_host
        while proc.returncode is None:
            try:
                _, writer = await asyncio.open_connection(host, self.config.rtmp_port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self.ready.set()
            return

    async def _pipe(self, stream: asyncio.StreamReader | None) -> None:
        if stream is None:
            return
        while line := await stream.readline():
            text = redact_line(line.decode("utf-8", "replace").rstrip())
            if not text:
                continue
            m = _LINE.match(text)
            level, message = (_LEVELS.get(m.group(1), "info"), m.group(2)) if m else ("info", text)
            getattr(log, level)("nginx", line=message)

    async def stop(self) -> None:
        self._stopping = True
        proc = self.process
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                _kill_group(proc.pid, signal.SIGKILL)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if proc is not None:
            _kill_group(proc.pid, signal.SIGKILL)
        self.ready.clear()
