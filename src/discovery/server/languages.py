"""The `lang` attribute of text from a record: a screen reader switches voice on it, so only a
real language may be named there. Catalogues write "en", "en-GB", "eng" and also codes that name
no language (the demo catalogue has `xml:lang="yy"`, which axe-core reports as a serious
violation); such text is left in the page's own language."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from discovery.index.facet_keys import LANG3

# ISO 639-1, every two-letter language code.
ISO_639_1 = frozenset("""
aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv
dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie
ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv
mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm
rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts
tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu""".split())
_TAG = re.compile(r"^([A-Za-z]{2,3})((?:-[A-Za-z0-9]{1,8})*)$")


def html_lang(tag: str | None) -> str | None:
    """The tag as an HTML `lang` value ("en_GB" -> "en-GB", "eng" -> "en"), or None when it
    names no ISO 639-1 language."""
    match = _TAG.match((tag or "").strip().replace("_", "-"))
    if not match:
        return None
    primary = LANG3.get(match.group(1).lower(), match.group(1).lower())
    if primary not in ISO_639_1:
        return None
    return primary + match.group(2) if len(match.group(1)) == 2 else primary


def lang_attribute(tag: str | None) -> Markup:
    """` lang="..."` for an element holding text in `tag`'s language, or nothing (`html_lang`)."""
    code = html_lang(tag)
    return Markup(' lang="{}"').format(escape(code)) if code else Markup("")
