"""Text that XML 1.0 can carry, and elements built from it.

Harvested metadata holds control characters (a variable label with U+0001, say) that XML 1.0
forbids: lxml refuses them, and a harvester's parser would too. Every writer of XML in the export
package puts text through `xml_safe`, which drops them; the other characters are escaped by lxml.
"""

from __future__ import annotations

import re

from lxml import etree

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# XML 1.0 Char: tab, newline, carriage return, U+0020-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 cannot hold (controls, lone surrogates, U+FFFE)."""
    return _NOT_XML.sub("", text)


def add(parent: etree._Element, tag: str, text: str | None = None, lang: str | None = None,
        **attributes: str | None) -> etree._Element:
    """A child element with safe text, an optional xml:lang and the attributes that are set."""
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = xml_safe(text)
    if lang:
        element.set(XML_LANG, xml_safe(lang))
    for name, value in attributes.items():
        if value is not None:
            element.set(name, xml_safe(value))
    return element
