"""The dashboard as a supervised server process: started, watched until it answers, stopped with everything it started.

``python run.py dashboard`` runs ``solara run sim/views/app.py`` in its own process group, prints
the address once the port answers, relays the server's own output to stderr after that, and on
Ctrl-C or SIGTERM stops the group (SIGTERM, then SIGKILL). On Linux the server also receives
SIGTERM if this process is killed, even by SIGKILL.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import threading
from pathlib import Path

from sim.inputs.errors import InputError


def _check_port(host: str, port: int) -> None:
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise InputError("--host", host, f"unknown address ({exc})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # Without it, a port still in TIME_WAIT after the last dashboard would be refused here although
        # the server could listen on it.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
        try:
            probe.bind(address)
        except PermissionError:
            raise InputError("--port", str(port), "needs privileges to listen on (use 1024 or more)") from None
        except OSError as exc:
            key, value = ("--port", str(port)) if exc.errno == errno.EADDRINUSE else ("--host", host)
            raise InputError(key, value, f"cannot listen there: {exc.strerror}") from None


def _listening(host: str, port: int) -> bool:
    import socket

    try:
        # A wildcard address can be listened on but not connected to: ask the loopback instead.
        socket.create_connection(("127.0.0.1" if host in ("0.0.0.0", "") else host, port), timeout=1).close()
    except OSError:
        return False
    return True


def serve(host: str = "127.0.0.1", port: int = 8765) -> None:
    """Start ``solara run sim/views/app.py`` and print its address once it answers; stop it on Ctrl-C or SIGTERM.

    Raises:
        InputError: the address cannot be listened on, or the server stopped or did not answer.
    """
    import subprocess

    _check_port(host, port)
    app = Path(__file__).parents[1] / "views" / "app.py"
    cmd = [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(app),
        "--host",
        host,
        "--port",
        str(port),
        "--no-open",
        "--production",
    ]
    server = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        # Its own process group: _stop can end the server and whatever it started in one signal, and a
        # Ctrl-C in the terminal reaches this process only, which then stops the group in order.
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    where = f"{host}:{port}"
    started = threading.Event()
    try:
        _wait_until_listening(server, host, port, started)
        print(f"dashboard at http://{where} (Ctrl-C to stop)", flush=True)
        server.wait()
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: stop the server (below) and say so
        if not started.is_set():
            raise
        print("dashboard stopped", file=sys.stderr)
        return
    finally:
        _stop(server)
    if server.returncode:
        raise InputError("dashboard", where, f"the server stopped (exit {server.returncode})")


def _wait_until_listening(server, host: str, port: int, started: threading.Event, seconds: float = 180) -> None:
    """Wait for the server to answer on its port; then relay its output to stderr and set ``started``.

    Raises:
        InputError: the server ended, or did not answer in time (with its last line of output).
    """
    import time
    from collections import deque

    last: deque[str] = deque(maxlen=5)

    def relay() -> None:  # keep the pipe drained; show the server's own lines once it runs
        # Read even before the server answers: an undrained pipe fills and blocks the server.
        for line in server.stdout:
            last.append(line.rstrip())
            if started.is_set():
                print(line, end="", file=sys.stderr, flush=True)

    threading.Thread(target=relay, daemon=True).start()
    deadline = time.monotonic() + seconds
    while not _listening(host, port):
        if server.poll() is not None:
            time.sleep(0.2)  # let the relay read the last lines
            reason = next((x for x in reversed(last) if x.strip()), "no output")
            raise InputError(
                "dashboard",
                f"{host}:{port}",
                f"the server stopped before answering (exit {server.returncode}): {reason[-200:]}",
            )
        if time.monotonic() > deadline:
            raise InputError("dashboard", f"{host}:{port}", f"the server did not answer within {seconds:.0f} s")
        time.sleep(0.2)
    started.set()


def _die_with_parent() -> None:
    """In the server process (Linux): receive SIGTERM if this command is killed, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        import ctypes

        # SIGTERM rather than SIGKILL: the server can still stop the workers it started.
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _stop(server) -> None:
    """Stop the server process and everything it started (its own process group)."""
    import subprocess

    if server.poll() is None:
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(server.pid, sig)
            except ProcessLookupError:
                break
            try:
                server.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
    try:  # children left in the group after the server itself ended
        os.killpg(server.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
