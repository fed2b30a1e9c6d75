"""JupyterLab's HTML sanitiser, approximated: the tags, attributes and inline CSS it keeps.

Transcribed from `packages/apputils/src/sanitizer.ts` (JupyterLab 4): the allowed tags, the attributes
allowed on every tag and per tag, and the allowed CSS properties. Values are checked with the
sanitiser's regular expressions for the properties the run summary uses (any other allowed property
only needs a value free of `url(`, `expression(`, `var(`). `violations(html)` lists what the sanitiser
would strip; an empty list means the HTML survives unchanged.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


ALLOWED_TAGS = _words(
    """
    a abbr acronym address area article aside audio b bdi bdo big blockquote br button canvas caption center
    cite code col colgroup colspan command data datalist dd del details dfn dir div dl dt em fieldset
    figcaption figure font footer form h1 h2 h3 h4 h5 h6 header hgroup hr i img input ins kbd label legend
    li map mark menu meter nav nobr ol optgroup option output p pre progress q rowspan s samp section select
    small source span strike strong sub summary sup table tbody td textarea tfoot th thead time tr track tt
    u ul var video wbr
    """
)
GLOBAL_ATTRIBUTES = _words(
    """
    class dir draggable hidden id inert itemprop itemref itemscope lang spellcheck style title translate
    """
)
TAG_ATTRIBUTES = {
    "details": {"open"},
    "div": {"align"},
    "img": {"align", "alt", "border", "height", "hspace", "ismap", "src", "usemap", "vspace", "width"},
    "p": {"align"},
    "pre": {"width"},
    "table": {"align", "bgcolor", "border", "cellpadding", "cellspacing", "frame", "rules", "summary", "width"},
    "td": {"abbr", "align", "axis", "bgcolor", "char", "charoff", "colspan", "headers", "height", "nowrap"}
    | {"rowspan", "scope", "valign", "width"},
    "th": {"abbr", "align", "axis", "bgcolor", "char", "charoff", "colspan", "headers", "height", "nowrap"}
    | {"rowspan", "scope", "valign", "width"},
    "tr": {"align", "bgcolor", "char", "charoff", "valign"},
    "thead": {"align", "char", "charoff", "valign"},
    "tbody": {"align", "char", "charoff", "valign"},
    "ol": {"compact", "reversed", "start", "type"},
    "ul": {"compact", "type"},
    "li": {"type", "value"},
}
ALLOWED_STYLES = _words(
    """
    backface-visibility background background-attachment background-clip background-color background-image
    background-origin background-position background-repeat background-size border border-bottom
    border-bottom-color border-bottom-left-radius border-bottom-right-radius border-bottom-style
    border-bottom-width border-collapse border-color border-left border-left-color border-left-style
    border-left-width border-radius border-right border-right-color border-right-style border-right-width
    border-spacing border-style border-top border-top-color border-top-left-radius border-top-right-radius
    border-top-style border-top-width border-width bottom box box-shadow box-sizing caption-side clear clip
    color cursor direction display display-inside display-outside elevation empty-cells float font
    font-family font-size font-stretch font-style font-variant font-weight height left letter-spacing
    line-height list-style list-style-image list-style-position list-style-type margin margin-bottom
    margin-left margin-right margin-top max-height max-width min-height min-width opacity outline
    outline-color outline-style outline-width overflow overflow-wrap overflow-x overflow-y padding
    padding-bottom padding-left padding-right padding-top page-break-after page-break-before
    page-break-inside pause-after perspective pitch pitch-range position quotes resize richness right speak
    speak-header speak-numeral speak-punctuation speech-rate stress table-layout text-align text-decoration
    text-indent text-overflow text-shadow text-transform text-wrap top unicode-bidi vertical-align
    visibility volume white-space width word-break word-spacing word-wrap z-index zoom
    """
)

# The sanitiser's value expressions (CssProp in sanitizer.ts) for the properties the summary uses.
_NUM = r"[+-]?([0-9]*[.])?[0-9]+(e-?[0-9]*)?"
_NUM_POS = r"[+]?([0-9]*[.])?[0-9]+(e-?[0-9]*)?"
_LENGTH = rf"({_NUM}(px|em|rem|ex|in|cm|mm|pt|pc)|0)"
_LENGTH_POS = rf"({_NUM_POS}(px|em|rem|ex|in|cm|mm|pt|pc)|0)"
_LEN_OR_PERC = rf"(0|{_NUM}(px|em|rem|ex|in|cm|mm|pt|pc|%))"
_PERC_POS = rf"{_NUM_POS}%"
_ALPHA = r"[+]?(1([.][0]+)?|0([.][0-9]+)?)"
_COLOR = (
    r"\#(0x)?[0-9a-f]+|rgb\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*\)"
    rf"|rgba\(\s*\d{{1,3}}\s*,\s*\d{{1,3}}\s*,\s*\d{{1,3}}\s*,\s*({_ALPHA})\s*\)"
    r"|black|white|gray|red|green|blue|transparent"
)
_BORDER_STYLE = "none|hidden|dotted|dashed|solid|double|groove|ridge|inset|outset"
_BORDER = rf"((thin|medium|thick|{_LENGTH}|{_BORDER_STYLE}|{_COLOR})\s*){{1,3}}"
_MARGIN_WIDTH = rf"{_LEN_OR_PERC}|auto"
_PADDING_WIDTH = rf"{_LENGTH_POS}|{_PERC_POS}"
_FAMILY = r"serif|sans-serif|cursive|fantasy|monospace"
VALUE_PATTERNS = {
    "background-color": _COLOR,
    "border-bottom": _BORDER,
    "border-collapse": "collapse|separate",
    "border-radius": rf"(({_LEN_OR_PERC})\s*){{1,4}}",
    "color": _COLOR,
    "cursor": "auto|default|pointer|text",
    "display": "inline|block|inline-block|table|table-cell|flex|inline-flex|grid|none",
    "font-family": rf"({_FAMILY})(,\s*({_FAMILY}))*",
    "font-size": rf"xx-small|x-small|small|medium|large|x-large|xx-large|smaller|larger|{_LENGTH_POS}|{_PERC_POS}",
    "font-weight": "normal|bold|bolder|lighter|100|200|300|400|500|600|700|800|900",
    "height": rf"{_LENGTH}|{_NUM}%|auto",
    "line-height": rf"normal|{_NUM_POS}|{_LENGTH_POS}|{_PERC_POS}",
    "margin": rf"(({_MARGIN_WIDTH})\s*){{1,4}}",
    "margin-left": _MARGIN_WIDTH,
    "margin-top": _MARGIN_WIDTH,
    "max-height": rf"{_LENGTH_POS}|{_PERC_POS}|none|auto",
    "max-width": rf"{_LENGTH_POS}|{_PERC_POS}|none|auto",
    "min-width": rf"{_LENGTH_POS}|{_PERC_POS}|auto",
    "overflow": "visible|hidden|scroll|auto",
    "padding": rf"(({_PADDING_WIDTH})\s*){{1,4}}",
    "text-align": "left|right|center|justify",
    "vertical-align": rf"baseline|sub|super|top|text-top|middle|bottom|text-bottom|{_LEN_OR_PERC}",
    "white-space": "normal|pre|nowrap|pre-wrap|pre-line",
    "width": rf"{_LENGTH_POS}|{_PERC_POS}|auto",
    "word-break": "normal|keep-all|break-all",
}
_COMPILED = {name: re.compile(f"^({pattern})$", re.IGNORECASE) for name, pattern in VALUE_PATTERNS.items()}
_UNSAFE_VALUE = re.compile(r"url\(|expression\(|var\(|javascript:", re.IGNORECASE)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.tags: set[str] = set()
        self.properties: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name not in GLOBAL_ATTRIBUTES and name not in TAG_ATTRIBUTES.get(tag, set()):
                self.problems.append(f"attribute {name!r} on <{tag}>")
            if name == "style":
                self._style(tag, value or "")

    def _style(self, tag: str, style: str) -> None:
        for declaration in filter(None, (d.strip() for d in style.split(";"))):
            prop, _, value = (part.strip() for part in declaration.partition(":"))
            self.properties.add(prop)
            pattern = _COMPILED.get(prop)
            if prop not in ALLOWED_STYLES:
                self.problems.append(f"CSS property {prop!r} on <{tag}>")
            elif _UNSAFE_VALUE.search(value) or (pattern is not None and not pattern.match(value)):
                self.problems.append(f"CSS value {prop}: {value!r} on <{tag}>")


def violations(html: str) -> list[str]:
    """What JupyterLab's sanitiser would remove from `html` (empty: it survives as is)."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.problems


def inspect(html: str) -> tuple[set[str], set[str]]:
    """The tags and the CSS properties `html` uses."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.tags, collector.properties
