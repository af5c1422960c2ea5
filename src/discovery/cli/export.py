"""`discovery export`: the catalogue, or a filtered part, as JSON lines, Parquet or a ZIP of DDI
Codebook files, streamed to a file or standard output in bounded memory (`export/dump.py`)."""

from __future__ import annotations

import sys
from typing import Annotated, BinaryIO, Optional

import typer

from discovery.cli.common import DataDir, app, console, fail, open_catalogue
from discovery.errors import DiscoveryError
from discovery.export.dump import FORMATS, dump_format, selection


@app.command("export")
def export_command(
        format: Annotated[str, typer.Option("--format", help=f"One of {', '.join(FORMATS)}")] = "jsonl",
        output: Annotated[str, typer.Option("--output", "-o", help="File to write; - for standard "
                                            "output")] = "-",
        kind: Annotated[Optional[list[str]], typer.Option(
            "--kind", help="Only records of this kind (study, dataset, variable...); repeatable")] = None,
        catalogue_name: Annotated[Optional[list[str]], typer.Option(
            "--catalogue", help="Only records this catalogue published, e.g. 'UK Data Service'; "
                                "repeatable")] = None,
        since: Annotated[Optional[str], typer.Option(
            "--since", help="Only records changed at or after this date (YYYY-MM-DD)")] = None,
        data: DataDir = "data") -> None:
    """Write the whole catalogue, or the records the options select, as one stream: memory stays
    bounded however large the catalogue is."""
    try:
        fmt = dump_format(format)
        chosen = selection(fmt, kind or (), catalogue_name or (), since)
    except DiscoveryError as error:
        raise fail(error) from None
    if output == "-" and fmt.name != "jsonl" and sys.stdout.isatty():
        raise fail(DiscoveryError(f"{fmt.name} is binary; not writing it to a terminal",
                                  hint="pass --output FILE"))
    catalogue = open_catalogue(data)
    written = 0
    try:
        with _opened(output) as out:
            for chunk in fmt.chunks(catalogue, chosen):
                out.write(chunk)
                written += len(chunk)
    except DiscoveryError as error:
        raise fail(error) from None
    except OSError as error:
        raise fail(DiscoveryError(f"cannot write: {error.strerror}", file=output)) from None
    finally:
        catalogue.close()
    if output != "-":
        console.print(f"Wrote {written:,} bytes of {fmt.name} to {output}")


class _opened:
    """The output file, or standard output's bytes (left open)."""

    def __init__(self, output: str) -> None:
        self.output = output
        self.file: BinaryIO | None = None

    def __enter__(self) -> BinaryIO:
        if self.output == "-":
            return sys.stdout.buffer
        self.file = open(self.output, "wb")
        return self.file

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            self.file.close()
