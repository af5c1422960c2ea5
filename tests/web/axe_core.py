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
from pathlib import Path

import pytest

VERSION = "4.14.1"
# dist.integrity of axe-core 4.14.1 in https://registry.npmjs.org/axe-core
INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
TARBALL = f"https://registry.npmjs.org/axe-core/-/axe-core-{VERSION}.tgz"
MEMBER = "package/axe.min.js"
CACHE = Path.home() / ".cache" / "discovery-test-axe"


def integrity_of(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def _download() -> bytes:
    try:
        with urllib.request.urlopen(TARBALL, timeout=60) as response:
            return response.read()
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        pytest.fail(f"could not fetch axe-core {VERSION} from {TARBALL} ({error}); the accessibility "
                    f"tests need it once, then keep it in {CACHE}", pytrace=False)


def _tarball() -> bytes:
    """The release's tarball, from the cache when its integrity still matches the pin."""
    cached = CACHE / f"axe-core-{VERSION}.tgz"
    if cached.is_file() and integrity_of(cached.read_bytes()) == INTEGRITY:
        return cached.read_bytes()
    data = _download()
    found = integrity_of(data)
    if found != INTEGRITY:
        pytest.fail(f"{TARBALL} has integrity {found}, not the pinned {INTEGRITY}: refusing to run it",
                    pytrace=False)
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(".part")
    partial.write_bytes(data)
    os.replace(partial, cached)
    return data


def axe_source() -> str:
    """axe.min.js from the checked tarball: that one regular file, extracted under tarfile's
    "data" filter (no absolute paths, links or paths out of the folder)."""
    script = CACHE / f"axe-core-{VERSION}.min.js"
    data = _tarball()
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as folder:
        archive = Path(folder) / "axe.tgz"
        archive.write_bytes(data)
        with tarfile.open(archive, mode="r:gz") as tar:
            member = tar.getmember(MEMBER)
            if not member.isfile():
                pytest.fail(f"{MEMBER} in {TARBALL} is not a regular file", pytrace=False)
            tar.extract(member, path=folder, filter="data")
        os.replace(Path(folder) / MEMBER, script)
    return script.read_text(encoding="utf-8")
