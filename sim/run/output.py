"""Safe output: result folders written whole or not at all, and single files checked before any work.

A result folder is built in a hidden temporary folder beside its target and renamed into place at
the end. Nothing is ever deleted unless it is a previous result folder of this program (it holds
our ``metadata.json``) and the user asked for it with ``--force``; a folder that appears at the
target while a run is working is never replaced (the run is written beside it instead). Hidden
temporary folders left by a killed run are removed by the next run into the same parent folder.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.inputs.scenario import Scenario

import contextlib
import errno
import json
import os
import re
import secrets
import shutil
import socket
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from sim.inputs.errors import InputError

#: Written into every metadata.json; how a folder is recognised as one of our results.
PROGRAM = "imc-sim"
#: Marker file inside a temporary folder: who made it (pid, host) and when.
MARKER = ".imc-sim-incomplete"
#: A replaced result folder (moved aside while its successor is renamed in) untouched this long is stale.
STALE_SECONDS = 600
_HIDDEN = re.compile(r"^\..+\.imc-(tmp|old)-[0-9a-f]{8}$")


def _refuse(path: Path, source: str, problem: str) -> InputError:
    return InputError(path, source, problem)


def _os_problem(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _listed(meta: dict[str, Any]) -> set[str]:
    """The files a result folder's ``metadata.json`` lists as written by this program (and itself)."""
    files = meta.get("files")
    names = {f for f in files if isinstance(f, str)} if isinstance(files, list) else set()
    return names | {"metadata.json"}


def unlisted_files(path: Path) -> list[str]:
    """Entries of a result folder that its ``metadata.json`` does not list as ours (a user's own files)."""
    try:
        meta = json.loads((path / "metadata.json").read_text(encoding="utf-8"))
        entries = list(path.iterdir())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return []
    ours = _listed(meta) if isinstance(meta, dict) else {"metadata.json"}
    # A listed name still counts as the user's when it is now a link or a folder: --force removes
    # only plain files this program wrote, whatever a later hand put under the same name.
    return sorted(p.name for p in entries if p.name not in ours or p.is_symlink() or not p.is_file())


def is_result_folder(path: Path) -> bool:
    """True when ``path`` is a folder written by this program, holding nothing else.

    That is: it holds our ``metadata.json``, and every other entry is a file that the
    ``metadata.json`` lists (``files``) as written by the run that made it -- so ``--force`` never
    sweeps away a user's own file, whatever its name or kind. A folder from a version that did not
    list its files qualifies only if it holds nothing but ``metadata.json``.
    """
    if path.is_symlink() or not path.is_dir():
        return False
    try:
        meta = json.loads((path / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    # A folder that also holds a file the run did not write is a user's folder, whatever its
    # metadata.json says: --force must not sweep it away.
    if not isinstance(meta, dict) or unlisted_files(path):
        return False
    command = meta.get("command_line")
    # Folders written before "program" was recorded are recognised by their older keys, so --force
    # can still replace results made by earlier versions.
    legacy = "package_version" in meta and isinstance(command, list) and str(command[0] if command else "") == "run.py"
    return meta.get("program") == PROGRAM or legacy


def list_files(folder: Path) -> None:
    """Record in ``folder/metadata.json`` (key ``files``) every file the folder holds: what ``--force`` may remove.

    Called when a result folder is complete; the names are those this program wrote there.
    """
    meta_path = folder / "metadata.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return
    if isinstance(meta, dict):
        names = sorted(p.name for p in folder.iterdir() if p.name not in (MARKER, "metadata.json") and p.is_file())
        write_json(meta_path, {**meta, "files": names})


# Cached: git runs once per process, not once per result folder (the dashboard writes many);
# the code a process runs does not change after import, so neither does what it should cite.
@lru_cache(maxsize=1)
def provenance() -> dict[str, Any]:
    """What traces a result to its code: the git commit (and whether the tree had changes), versions.

    ``git_commit`` and ``git_dirty`` are ``None`` outside a git checkout (or without git).
    """
    import platform
    import subprocess
    from importlib.metadata import PackageNotFoundError, version

    root = Path(__file__).resolve().parents[2]

    def git(*args: str) -> str | None:
        try:
            res = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return res.stdout if res.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    # Untracked files do not count as dirty: result folders and notebooks' outputs sit in the tree.
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    versions = {"python": platform.python_version()}
    for package in ("numpy", "mesa", "matplotlib"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    return {
        "git_commit": commit.strip() if commit else None,
        "git_dirty": bool(status.strip()) if status is not None else None,
        "versions": versions,
    }


def check_replaceable(out: Path, source: str = "--out") -> None:
    """Refuse to replace ``out`` unless it is one of our previous result folders.

    Raises:
        InputError: for the current folder or a parent of it, a file, a symbolic link, or any
            folder that does not hold this program's ``metadata.json``.
    """
    cwd, real = Path(os.path.realpath(Path.cwd())), Path(os.path.realpath(out))
    if real == cwd or real in cwd.parents:
        raise _refuse(out, source, "is the current folder or a parent of it; refusing to replace it")
    if out.is_symlink():
        raise _refuse(out, source, "is a symbolic link; refusing to replace it")
    if not out.is_dir():
        raise _refuse(out, source, "is a file, not a result folder; refusing to replace it")
    if not is_result_folder(out):
        extra = unlisted_files(out)
        named = f" ({', '.join(extra[:3])}{', ...' if len(extra) > 3 else ''})" if extra else ""
        raise _refuse(
            out,
            source,
            "is not a result folder of this program (it lacks our metadata.json, or holds files or "
            f"folders its metadata.json does not list as written by this program{named}); refusing to "
            "replace it -- move them, or choose another --out",
        )


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st, meta = path.stat(), (path / "metadata.json").stat()
    except OSError:
        return None
    # Device, inode and metadata.json's time: if another process replaced the folder between the
    # check and the commit, the identity differs and commit() leaves the new folder alone.
    return st.st_dev, st.st_ino, meta.st_mtime_ns


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process not yet reaped (a zombie) is gone too
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def clean_stale(parent: Path, now: float | None = None) -> list[Path]:
    """Remove hidden folders of this program in ``parent`` that a killed run left behind.

    Only two kinds are touched: ``.<name>.imc-tmp-<hex>`` holding our marker, once the process
    named in it is gone (made on this host; one from another host sharing the folder is left
    alone), and ``.<name>.imc-old-<hex>``, a replaced result folder of ours untouched for
    ``STALE_SECONDS``.
    """
    now = time.time() if now is None else now
    removed = []
    try:
        entries = [(p, m.group(1)) for p in parent.iterdir() if (m := _HIDDEN.match(p.name))]
    except OSError:
        return removed
    for p, kind in entries:
        try:
            if p.is_symlink() or not p.is_dir():
                continue
            if kind == "tmp":
                info = json.loads((p / MARKER).read_text(encoding="utf-8"))
                # A process id means something only on the host that wrote it: a folder shared between
                # machines is cleaned only by runs on the host that left the leftover.
                if info.get("host") != socket.gethostname() or _pid_alive(int(info["pid"])):
                    continue
            elif now - p.stat().st_mtime < STALE_SECONDS or not is_result_folder(p):
                continue
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # no readable marker: not ours to judge
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


def make_parents(out: Path, source: str) -> list[Path]:
    """Create the missing parent folders of ``out``; return those created (outermost first)."""
    folder = out.parent
    created: list[Path] = []
    try:
        for p in [p for p in (folder, *folder.parents) if not p.exists()][::-1]:
            p.mkdir()
            created.append(p)
    except OSError as exc:
        _remove_empty(created)
        raise _refuse(out, source, f"cannot create its folder {folder}: {_os_problem(exc)}") from None
    if not folder.is_dir():
        raise _refuse(out, source, f"{folder} is a file, not a folder")
    return created


def _remove_empty(folders: list[Path]) -> None:
    for p in reversed(folders):
        with contextlib.suppress(OSError):
            p.rmdir()


def _new_hidden(parent: Path, name: str, kind: str) -> Path:
    while True:
        path = parent / f".{name}.imc-{kind}-{secrets.token_hex(4)}"
        try:
            path.mkdir(mode=0o777)  # mkdir honours the umask (mkdtemp would give 0700)
            return path
        except FileExistsError:
            continue


class OutputFolder:
    """A result folder written atomically: check and reserve it before the work, commit after.

    Use as a context manager; the body writes into the yielded temporary folder::

        out = OutputFolder(Path("results/x"), force=False)   # checks now, before any work
        with out as tmp:
            (tmp / "runs.csv").write_text(...)
        print(out.path)                                        # where the result is

    On an exception (or Ctrl-C) the temporary folder and any parent folders created for it are
    removed: nothing is left behind.

    Args:
        path: The target folder.
        force: Replace the target if it is a previous result folder of this program.
        source: Argument named in errors.

    Raises:
        InputError: the target exists and is not empty (without ``force``), cannot be replaced
            (with ``force``), or its parent cannot be created or written.
    """

    def __init__(self, path: Path, force: bool = False, source: str = "--out") -> None:
        self.path = Path(os.path.abspath(path))
        self.source, self.force = source, force
        self.replace: tuple[int, int, int] | None = None
        try:
            self._check_target()
        except OSError as exc:  # e.g. a parent folder that cannot be searched
            raise _refuse(self.path, source, _os_problem(exc)) from None
        self._created = make_parents(self.path, source)
        # Only after the target was checked: a refused command never touches its parent folder.
        clean_stale(self.path.parent)
        try:
            self.tmp = _new_hidden(self.path.parent, self.path.name, "tmp")
            (self.tmp / MARKER).write_text(
                json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "created": time.time()}), encoding="utf-8"
            )
        except OSError as exc:
            _remove_empty(self._created)
            raise _refuse(self.path, self.source, f"cannot write in {self.path.parent}: {_os_problem(exc)}") from None

    def _check_target(self) -> None:
        path, source = self.path, self.source
        cwd, real = Path(os.path.realpath(Path.cwd())), Path(os.path.realpath(path))
        if real == cwd or real in cwd.parents:
            raise _refuse(path, source, "is the current folder or a parent of it; choose a new folder")
        if not (path.is_symlink() or path.exists()):
            return
        if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
            return  # an empty folder: renaming onto it loses nothing
        if not self.force:
            what = "is a file" if not path.is_dir() else "exists and is not empty"
            raise _refuse(path, source, f"{what} (use --force to replace a previous result folder of this program)")
        check_replaceable(path, source)
        self.replace = _identity(path)

    def __enter__(self) -> Path:
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.discard()
            return
        self.commit()

    def discard(self) -> None:
        """Remove the temporary folder and the parents created for it."""
        shutil.rmtree(self.tmp, ignore_errors=True)
        _remove_empty(self._created)

    def commit(self) -> Path:
        """Move the finished folder into place; return where it went.

        Raises:
            InputError: a folder appeared at the target while this run was working; the result
                was written beside it (the message says where) and nothing was replaced.
        """
        # The marker goes first, then the file list: a folder holding the marker is unfinished by
        # definition, and the list must not name the marker.
        (self.tmp / MARKER).unlink(missing_ok=True)
        list_files(self.tmp)
        trash = None
        if self.replace is not None and _identity(self.path) == self.replace:
            trash = self.path.parent / f".{self.path.name}.imc-old-{secrets.token_hex(4)}"
            # Move the old folder aside and delete it only after the new one is in place: the target
            # is without a complete result for the time between two renames, never during a slow delete.
            os.rename(self.path, trash)
            os.utime(trash)  # recent: not taken for a stale leftover by another run
        try:
            os.rename(self.tmp, self.path)  # fails on a non-empty folder or a file: never replaces one
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
                raise
            beside = self._rename_beside()
            raise _refuse(
                self.path,
                self.source,
                f"appeared while this run was working and was left alone; this run's results are in {beside}",
            ) from None
        finally:
            if trash is not None:
                shutil.rmtree(trash, ignore_errors=True)
        return self.path

    def _rename_beside(self) -> Path:
        for n in range(2, 10_000):
            candidate = self.path.with_name(f"{self.path.name}-{n}")
            if candidate.exists() or candidate.is_symlink():
                continue
            try:
                os.rename(self.tmp, candidate)
                return candidate
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
                    raise
        return self.tmp  # pragma: no cover - ten thousand siblings


def check_output_file(path: Path, source: str, marker: str | None = None, force: bool = False) -> Path:
    """Check before any work that ``path`` can be written as a file; return it absolute.

    Args:
        path: The file to write.
        source: The option named in errors.
        marker: Text that a file this program wrote starts with (within its first 400 characters);
            an existing non-empty file without it is refused unless ``force``: a user's own file is
            never overwritten by mistake.
        force: Replace an existing file whatever it holds.

    Raises:
        InputError: the path is a folder, its folder does not exist, it cannot be written, or it
            holds something this program did not write.
    """
    path = Path(os.path.realpath(path))  # write through a symbolic link, not over it
    if marker and not force and path.is_file() and path.stat().st_size:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(400)
        if marker not in head:
            raise _refuse(path, source, "exists and was not written by this program (use --force to replace it)")
    if path.is_dir():
        raise _refuse(path, source, "is a folder; give a file name")
    if path.exists() and not path.is_file():
        raise _refuse(path, source, "is not a regular file (a device or pipe); give a file name")
    if not path.parent.is_dir():
        raise _refuse(path, source, f"folder {path.parent} does not exist")
    # Probe by creating a file beside the target, as write_text_atomic will: permission bits alone
    # say nothing of ACLs or network shares, and the check is there so that a long run never ends
    # in a write error.
    probe = path.parent / f".{path.name}.imc-probe-{secrets.token_hex(4)}"
    try:
        fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _refuse(path, source, f"cannot write here: {_os_problem(exc)}") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise _refuse(path, source, "exists and cannot be overwritten")
    return path


def write_text_atomic(path: Path, text: str) -> None:
    """Write a text file whole or not at all (temporary file and rename; honours the umask)."""
    # Beside the target, not in /tmp: os.replace is atomic only within one file system.
    tmp = path.parent / f".{path.name}.imc-tmp-{secrets.token_hex(4)}.part"
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    """Write JSON with stable formatting."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def scenario_parameters(sc: Scenario) -> dict[str, Any]:
    """A scenario's resolved parameters as a flat JSON-ready dict (the one place that reads them)."""
    return sc.params.as_dict()


def metadata(
    scenarios: Iterable[Scenario],
    *,
    seed: int,
    replicates: int,
    started: datetime,
    execution: Mapping[str, Any] | None = None,
    command: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The content of ``metadata.json``.

    Version, command, scenarios (file, SHA-256, parameters), seeds, how the runs were executed
    (scheduler, workers, chunk size) and times.

    Args:
        scenarios: The resolved scenarios that were run.
        seed: Base seed.
        replicates: Replicates per scenario (or per sample).
        started: When the work started.
        execution: ``scheduler``, ``workers`` and ``chunk_size`` (as filled in by ``sim.run.runner.execute``).
        command: The command line (default: this process's).
        **extra: More keys (variants, sweep design...).
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        pkg = version("imc-sim")
    except PackageNotFoundError:
        pkg = "0.1.0 (not installed)"
    execution = dict(execution or {})
    finished = datetime.now()
    return {
        "program": PROGRAM,
        "package_version": pkg,
        **provenance(),
        "command_line": command if command is not None else [Path(sys.argv[0]).name, *sys.argv[1:]],
        "scenarios": [
            {"name": sc.name, "file": str(sc.path), "sha256": sc.sha256, "parameters": scenario_parameters(sc)}
            for sc in scenarios
        ],
        "base_seed": seed,
        # The recipe in words, so any replicate can be re-run from metadata.json alone.
        "replicate_seeds": "numpy.random.SeedSequence(base_seed, spawn_key=(replicate,)) for "
        f"replicate in 0..{replicates - 1}",
        "replicates": replicates,
        "scheduler": execution.get("scheduler"),
        "workers": execution.get("workers"),
        "chunk_size": execution.get("chunk_size"),
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "seconds": round((finished - started).total_seconds(), 2),
        **extra,
    }
