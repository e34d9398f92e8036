"""One writer per journal: an OS file lock on ``PATH.lock`` held for the writer's whole run."""

from __future__ import annotations

import contextlib
import os
import socket
import time

from .errors import JournalBusyError, JournalError

__all__ = ["JournalLock"]


class JournalLock:
    """An exclusive lock on a journal for the life of one writer: an OS file lock on ``PATH.lock``.

    The lock file holds the writer's pid and host, so that a second writer is told who
    has it. The OS drops the lock when the process ends, however it ends (a killed
    kernel leaves no stale lock). Two :class:`JournalLock` objects in one process
    exclude each other too.

    Parameters
    ----------
    path : str or os.PathLike
        The journal; the lock is the file beside it with ``.lock`` appended.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "run.sqlite")
    >>> with JournalLock(path):
    ...     try:
    ...         JournalLock(path).acquire()
    ...     except JournalBusyError as err:
    ...         print("busy:", "held by pid" in str(err))
    busy: True
    """

    def __init__(self, path):
        self.path = path
        self._fd = None

    @property
    def lock_path(self) -> str:
        return os.fspath(self.path) + ".lock"

    @property
    def held(self) -> bool:
        return self._fd is not None

    def holder(self) -> str:
        """Who holds the lock, as the lock file says (``"pid 123 on host"``), or ``"unknown"``."""
        text = ""
        for _ in range(50):  # the holder writes its name just after taking the lock
            try:
                with open(self.lock_path, encoding="utf-8") as f:
                    text = f.read().strip()
            except OSError:
                break
            if text:
                break
            time.sleep(0.01)
        return text or "unknown"

    def acquire(self) -> JournalLock:
        """Take the lock or raise :class:`JournalBusyError` naming the file and its holder."""
        if self._fd is not None:
            return self
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise JournalError(f"cannot lock the journal {os.fspath(self.path)!r}: cannot open "
                               f"{self.lock_path!r} ({err.strerror or err})") from None
        try:
            _lock_fd(fd)
        except OSError:
            os.close(fd)
            raise JournalBusyError(
                f"the journal {os.fspath(self.path)!r} is being written by another search ({self.holder()}); "
                "wait for it to finish or stop it, or use another storage path") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"held by pid {os.getpid()} on {socket.gethostname()} since "
                     f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        """Give the lock back (the lock file stays; it is reused)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        _unlock_fd(fd)
        os.close(fd)

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()

    def __del__(self):
        self.release()

    def __repr__(self) -> str:
        return f"JournalLock({self.path!r}, held={self.held})"


try:  # POSIX
    import fcntl

    def _lock_fd(fd):
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock_fd(fd):
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
except ImportError:  # Windows
    import msvcrt

    def _lock_fd(fd):
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock_fd(fd):
        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
