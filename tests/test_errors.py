"""The one line the CLI prints for an error: file, record, reason and hint, each only if known."""

from discovery.errors import DiscoveryError


def test_an_error_names_its_file_and_record_when_it_has_them():
    error = DiscoveryError("not XML", file="a.xml", record="v12", hint="check the export")
    assert error.one_line() == "a.xml: record v12: not XML (hint: check the export)"


def test_an_option_mistake_names_no_file():
    assert DiscoveryError("no kind 'x'", hint="kinds: study").one_line() == "no kind 'x' (hint: kinds: study)"
