"""The axe-core fetch the accessibility tests rely on, against a real HTTP server on 127.0.0.1:
a release whose integrity matches is cached and read from the cache; a wrong integrity, a
server that cannot be reached or a tarball whose script is a link fail with a clear message."""

from __future__ import annotations

import functools
import io
import socket
import tarfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.server.axe_core import MEMBER, Release, axe_source, integrity_of

SCRIPT = b"window.axe = {run: () => []};\n"


def tarball(script: bytes | None, link: bool = False) -> bytes:
    """An npm-style tarball holding `package/axe.min.js` (or a link of that name)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        readme = tarfile.TarInfo("package/README.md")
        readme.size = 3
        tar.addfile(readme, io.BytesIO(b"axe"))
        member = tarfile.TarInfo(MEMBER)
        if link:
            member.type, member.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(member)
        elif script is not None:
            member.size = len(script)
            tar.addfile(member, io.BytesIO(script))
    return buffer.getvalue()


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A folder served over HTTP on 127.0.0.1, and its URL."""
    folder = tmp_path / "registry"
    folder.mkdir()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder
    server.shutdown()
    server.server_close()


def publish(registry: tuple[str, Path], data: bytes, integrity: str | None = None) -> Release:
    url, folder = registry
    (folder / "axe-core-9.9.9.tgz").write_bytes(data)
    return Release("9.9.9", integrity or integrity_of(data), f"{url}/axe-core-9.9.9.tgz")


def test_a_matching_release_is_cached_and_read_from_the_cache(registry: tuple[str, Path],
                                                              tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    release = publish(registry, tarball(SCRIPT))
    assert axe_source(release, cache) == SCRIPT.decode()
    assert (cache / "axe-core-9.9.9.tgz").is_file()
    (registry[1] / "axe-core-9.9.9.tgz").unlink()  # gone from the registry: the cache answers
    assert axe_source(release, cache) == SCRIPT.decode()
    assert sorted(p.name for p in cache.iterdir()) == ["axe-core-9.9.9.tgz"]  # nothing else left


def test_a_tarball_that_differs_from_the_pin_is_refused(registry: tuple[str, Path], tmp_path: Path) -> None:
    release = publish(registry, tarball(b"window.pwned = 1;"), integrity=integrity_of(tarball(SCRIPT)))
    with pytest.raises(pytest.fail.Exception, match="not the pinned sha512-.*refusing to run it"):
        axe_source(release, tmp_path / "cache")
    assert not (tmp_path / "cache" / "axe-core-9.9.9.tgz").exists()


def test_a_registry_out_of_reach_fails_with_what_to_fetch(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port with nothing listening on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    release = Release("9.9.9", "sha512-x", f"http://127.0.0.1:{port}/axe-core-9.9.9.tgz")
    with pytest.raises(pytest.fail.Exception, match=r"could not fetch axe-core 9\.9\.9 from http://127"):
        axe_source(release, tmp_path / "cache")


@pytest.mark.parametrize("link", [True, False])
def test_a_script_that_is_a_link_or_missing_is_refused(registry: tuple[str, Path], tmp_path: Path,
                                                       link: bool) -> None:
    release = publish(registry, tarball(None, link=link))
    with pytest.raises(pytest.fail.Exception, match="not a regular file" if link else "holds no"):
        axe_source(release, tmp_path / "cache")
