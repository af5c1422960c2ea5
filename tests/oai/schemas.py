"""The official OAI-PMH 2.0 and oai_dc XML schemas, for validating what /oai answers.

Their licences are not stated (OAI-PMH.xsd carries no notice; oai_dc.xsd and simpledc20021212.xsd
are OAI's and DCMI's), so the repository does not ship them. They are taken from two packages on
PyPI that carry unmodified copies in their source archives, fetched once with pip into a cache:
pyoai 2.5.0 (`src/oaipmh/tests/OAI-PMH.xsd`) and core-oaipmh-provider-app 2.23.0 (the two Dublin
Core schemas). The W3C `xml.xsd` that simpledc imports by URL is replaced by the declaration of
`xml:lang` below, since a schema loaded here must not reach the network.

The DDI Codebook 2.5 schema is in no package any registry here serves; `codebook_order.py` checks
what we can of it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from lxml import etree

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "discovery-test-schemas"
SOURCES = {
    "pyoai==2.5.0": {"OAI-PMH.xsd": "pyoai-2.5.0/src/oaipmh/tests/OAI-PMH.xsd"},
    "core-oaipmh-provider-app==2.23.0": {
        name: f"core_oaipmh_provider_app-2.23.0/core_oaipmh_provider_app/static/"
              f"core_oaipmh_provider_app/xsd/{name}" for name in ("oai_dc.xsd", "simpledc20021212.xsd")},
}
XML_NAMESPACE = b"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
    targetNamespace="http://www.w3.org/XML/1998/namespace">
  <xs:attribute name="lang" type="xs:language"/>
</xs:schema>"""
# Both schemas in one: the envelope, and oai_dc for the metadata it wraps.
DRIVER = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:import namespace="http://www.openarchives.org/OAI/2.0/" schemaLocation="{dir}/OAI-PMH.xsd"/>
  <xs:import namespace="http://www.openarchives.org/OAI/2.0/oai_dc/" schemaLocation="{dir}/oai_dc.xsd"/>
</xs:schema>"""
DC_XSD_URL = "http://dublincore.org/schemas/xmls/simpledc20021212.xsd"
XML_XSD_URL = "http://www.w3.org/2001/03/xml.xsd"


def schema_folder() -> Path:
    """The cache folder holding the official files, fetched on first use."""
    folder = CACHE / "v1"
    wanted = [name for files in SOURCES.values() for name in files]
    if all((folder / name).is_file() for name in wanted):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as download:
        for requirement in SOURCES:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                            "--no-binary", ":all:", "--dest", download, requirement],
                           check=True, timeout=300)
        for archive in Path(download).glob("*.tar.gz"):
            with tarfile.open(archive) as tar:
                for files in SOURCES.values():
                    for name, member in files.items():
                        if member in tar.getnames():
                            (folder / name).write_bytes(tar.extractfile(member).read())
    (folder / "xml.xsd").write_bytes(XML_NAMESPACE)
    return folder


class _Local(etree.Resolver):
    """Schema imports by URL resolve to the cached files, never to the network."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def resolve(self, url: str, pubid: str | None, context: object) -> object:
        names = {DC_XSD_URL: "simpledc20021212.xsd", XML_XSD_URL: "xml.xsd"}
        if url in names:
            return self.resolve_filename(str(self.folder / names[url]), context)
        return None


def oai_schema() -> etree.XMLSchema:
    """The OAI-PMH 2.0 response schema with oai_dc, as published."""
    folder = schema_folder()
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_Local(folder))
    driver = etree.fromstring(DRIVER.format(dir=folder.as_uri()).encode(), parser,
                              base_url=folder.as_uri() + "/")
    return etree.XMLSchema(driver)
