"""axe-core, the accessibility engine the browser tests inject into each page: one pinned release
from the npm registry, checked against the registry's sha512 integrity and cached in
~/.cache/discovery-test-axe, so only the first run on a machine needs the network. It is fetched
here rather than vendored: the engine is Mozilla-licensed JavaScript of 650 kB that no user of
Discovery needs."""

from __future__ import annotations

import base64
import hashlib
import os
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

MEMBER = "package/axe.min.js"


@dataclass(frozen=True)
class Release:
    version: str
    integrity: str  # dist.integrity in the registry's metadata
    tarball: str


# https://registry.npmjs.org/axe-core, version 4.14.1
AXE = Release("4.14.1",
              "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
              "https://registry.npmjs.org/axe-core/-/axe-core-4.14.1.tgz")
CACHE = Path.home() / ".cache" / "discovery-test-axe"


def integrity_of(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def _download(release: Release, cache: Path) -> bytes:
    try:
        with urllib.request.urlopen(release.tarball, timeout=60) as response:
            return response.read()
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        pytest.fail(f"could not fetch axe-core {release.version} from {release.tarball} ({error}); "
                    f"the accessibility tests need it once, then keep it in {cache}", pytrace=False)


def _tarball(release: Release, cache: Path) -> bytes:
    """The release's tarball, from the cache when its integrity still matches the pin."""
    cached = cache / f"axe-core-{release.version}.tgz"
    if cached.is_file() and integrity_of(cached.read_bytes()) == release.integrity:
        return cached.read_bytes()
    data = _download(release, cache)
    found = integrity_of(data)
    if found != release.integrity:
        pytest.fail(f"{release.tarball} has integrity {found}, not the pinned {release.integrity}: "
                    "refusing to run it", pytrace=False)
    cache.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(".part")
    partial.write_bytes(data)
    os.replace(partial, cached)
    return data


def axe_source(release: Release = AXE, cache: Path = CACHE) -> str:
    """axe.min.js from the checked tarball: that one regular file, extracted under tarfile's
    "data" filter (no absolute paths, links or paths out of the folder)."""
    data = _tarball(release, cache)
    with tempfile.TemporaryDirectory(dir=cache) as folder:
        archive = Path(folder) / "axe.tgz"
        archive.write_bytes(data)
        with tarfile.open(archive, mode="r:gz") as tar:
            try:
                member = tar.getmember(MEMBER)
            except KeyError:
                pytest.fail(f"{release.tarball} holds no {MEMBER}", pytrace=False)
            if not member.isfile():
                pytest.fail(f"{MEMBER} in {release.tarball} is not a regular file", pytrace=False)
            tar.extract(member, path=folder, filter="data")
        return (Path(folder) / MEMBER).read_text(encoding="utf-8")
