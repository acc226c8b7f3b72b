"""Start a throwaway JupyterLab server for browser tests, and stop it (with its kernels) afterwards.

Used by the headless-browser tests (``tests/test_browser_validate.py``, and any test that opens a
notebook in a real JupyterLab). Nothing here needs the network: the JupyterLab news feed and the
update check are switched off, and the workspaces, runtime files and user settings of the server
all live in the directory it serves.

    with jupyterlab_server(tmp_path) as lab:
        page.goto(lab.url_for("some.ipynb"))

``lab.url_for(path)`` opens ``path`` (relative to the served directory) in JupyterLab, with the
token in the URL so the browser is logged in.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class JupyterLab:
    """A running JupyterLab server: where it is, how to log in, what it serves."""

    base_url: str  # http://127.0.0.1:<port>/ (with the trailing slash)
    token: str
    root_dir: Path
    process: subprocess.Popen
    log_path: Path

    def url_for(self, path: str = "", workspace: str | None = None) -> str:
        """The URL that opens ``path`` (relative to the root dir) in JupyterLab, logged in.

        A fresh ``workspace`` name gives a page of its own layout: without one, every page
        shares the default workspace, which reopens the tabs an earlier page left open.
        """
        quoted = urllib.parse.quote(path.replace(os.sep, "/"))
        where = f"lab/workspaces/{urllib.parse.quote(workspace)}/tree" if workspace else "lab/tree"
        return f"{self.base_url}{where}/{quoted}?token={self.token}"

    def api(self, endpoint: str, method: str = "GET", timeout: float = 5.0) -> bytes:
        """Call the server's REST API (``endpoint`` such as ``api/status``) with the token."""
        request = urllib.request.Request(
            self.base_url + endpoint, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()

    def log(self) -> str:
        """What the server has written to its log so far (for failure messages)."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children_by_parent() -> dict[int, list[int]]:
    """pid -> child pids, read from /proc (Linux); empty where there is no /proc."""
    children: dict[int, list[int]] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return children
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name (field 2) is in parentheses and may hold spaces: parse after the last ")"
        fields = stat[stat.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``: kernels start in sessions of their own, so killing the
    server's process group would miss them; walking the tree does not."""
    tree, found, todo = _children_by_parent(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (exited, not yet reaped by its reparented init) counts as gone
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def _stop(lab: JupyterLab) -> None:
    """Shut the server down with its kernels, politely first, then by force."""
    process = lab.process
    leftovers = _descendants(process.pid)  # kernels, validation kernels, terminals
    if process.poll() is None:
        # the polite way: the server shuts its kernels down, then exits
        with contextlib.suppress(OSError, urllib.error.URLError):
            lab.api("api/shutdown", method="POST", timeout=5)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
    # whatever outlived the server (a kernel it failed to stop) goes too
    leftovers = [pid for pid in leftovers if _alive(pid)]
    _kill(leftovers, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while leftovers and time.monotonic() < deadline:
        time.sleep(0.1)
        leftovers = [pid for pid in leftovers if _alive(pid)]
    _kill(leftovers, signal.SIGKILL)


@contextlib.contextmanager
def jupyterlab_server(root_dir: Path, *, startup_timeout: float = 60.0, extra_args: tuple[str, ...] = ()):
    """Run ``jupyter lab`` serving ``root_dir`` (also its working directory) while the block runs.

    The server's working directory matters for nbgrader: its Validate handler reads
    ``nbgrader_config.py`` from there. Kernels see the repository on ``PYTHONPATH``, so they
    import this checkout of ``nbbackprop`` even where it is not pip-installed.
    """
    root_dir = Path(root_dir).resolve()
    state = root_dir / ".jupyter-state"  # runtime files, settings, workspaces: none in $HOME
    for sub in ("runtime", "config", "data", "workspaces", "settings"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    # no "Would you like to get notified about official Jupyter news?" toast over the page
    news = state / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True, exist_ok=True)
    news.write_text('{"fetchNews": "false"}\n')
    token = secrets.token_hex(16)
    port = free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["JUPYTER_RUNTIME_DIR"] = str(state / "runtime")
    env["JUPYTERLAB_SETTINGS_DIR"] = str(state / "settings")
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(state / "workspaces")
    env.pop("JUPYTER_TOKEN", None)
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--ServerApp.open_browser=False",
        "--LabApp.news_url=None",  # no announcements fetched from the network
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.workspaces_dir={state / 'workspaces'}",
        *extra_args,
    ]
    log_path = state / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=root_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    lab = JupyterLab(f"http://127.0.0.1:{port}/", token, root_dir, process, log_path)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with code {process.returncode}:\n{lab.log()}")
            try:
                lab.api("api/status", timeout=2)
                lab.api("lab", timeout=10)  # the page itself (extensions listed) is served too
                break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"jupyter lab did not answer on port {port} within {startup_timeout:.0f} s:\n{lab.log()}"
                    ) from None
                time.sleep(0.25)
        yield lab
    finally:
        _stop(lab)
