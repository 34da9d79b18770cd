"""The report's HTML page: one file, inline CSS, no script, figures as PNG files beside it.

Why PNG files next to ``index.html`` rather than data URIs: each figure is then a file a
scientist drops into slides, a paper or an e-lab notebook as it is; the page stays a few kB
that any browser, mail client or notebook viewer opens; and the ``report/`` folder moves as one
(the links are relative). Everything shown is escaped: the recipe's text and the log's reasons
are data, never markup.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from fibsims.data.report.figures.style import Saved

INDEX = "index.html"
STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       max-width: 1180px; padding: 0 1.2em 3em; color: #1d232a; }
header { border-bottom: 2px solid #d9782d; margin-bottom: 1em; }
h1 { margin: .6em 0 .1em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
nav a { margin-right: 1em; } .lead { color: #4a5561; margin-top: 0; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #333; font-size: 14px; max-width: 60em; }
table { border-collapse: collapse; margin: .8em 0; font-size: 14px; }
caption { text-align: left; color: #4a5561; padding-bottom: .3em; }
th, td { border-bottom: 1px solid #e3e3e3; padding: .25em .8em .25em 0; text-align: left;
         vertical-align: top; }
th { color: #4a5561; font-weight: 600; } td.num { text-align: right;
         font-variant-numeric: tabular-nums; }
.note { background: #fff6e5; border-left: 4px solid #e0a030; padding: .4em .8em; }
pre { background: #f6f8fa; padding: 1em; overflow-x: auto; font-size: 13px; }
footer { margin-top: 3em; color: #6a737d; font-size: 13px; }
"""


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    numeric: set[int] = field(default_factory=set)
    """Columns aligned right."""
    caption: str = ""


@dataclass
class Section:
    id: str
    title: str
    intro: str = ""
    figures: list[Saved] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pre: str | None = None


@dataclass
class Page:
    title: str
    lead: str
    facts: Table
    notes: list[str]
    sections: list[Section]
    footer: str


def png_size(path: Path) -> tuple[int, int] | None:
    """Width and height from a PNG's header (the page states them so it lays out at once)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(24)
    except OSError:
        return None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.header)
    rows = []
    for row in table.rows:
        cells = "".join(
            f'<td class="num">{escape(c)}</td>' if i in table.numeric else f"<td>{escape(c)}</td>"
            for i, c in enumerate(row)
        )
        rows.append(f"<tr>{cells}</tr>")
    caption = f"<caption>{escape(table.caption)}</caption>" if table.caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _figure(saved: Saved, folder: Path) -> str:
    size = png_size(folder / saved.file)
    dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
    return (
        f'<figure id="fig-{escape(Path(saved.file).stem)}">'
        f'<img src="{escape(saved.file)}" alt="{escape(saved.title)}"{dims}>'
        f"<figcaption><b>{escape(saved.title)}.</b> {escape(saved.caption)}</figcaption></figure>"
    )


def _section(section: Section, folder: Path) -> str:
    parts = [f'<section id="{escape(section.id)}"><h2>{escape(section.title)}</h2>']
    if section.intro:
        parts.append(f"<p>{escape(section.intro)}</p>")
    parts += [f'<p class="note">{escape(note)}</p>' for note in section.notes]
    parts += [_table(table) for table in section.tables]
    parts += [_figure(saved, folder) for saved in section.figures]
    if section.pre is not None:
        parts.append(f"<pre>{escape(section.pre)}</pre>")
    parts.append("</section>")
    return "\n".join(parts)


def render(page: Page, folder: Path) -> str:
    """The page's HTML; ``folder`` holds the figures (their sizes are read from it)."""
    nav = " ".join(f'<a href="#{escape(s.id)}">{escape(s.title)}</a>' for s in page.sections)
    notes = "".join(f'<p class="note">{escape(note)}</p>' for note in page.notes)
    body = "\n".join(_section(section, folder) for section in page.sections)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(page.title)}</title><style>{STYLE}</style></head><body>"
        f'<header><h1>{escape(page.title)}</h1><p class="lead">{escape(page.lead)}</p>'
        f"<nav>{nav}</nav></header>{_table(page.facts)}{notes}\n{body}\n"
        f"<footer>{escape(page.footer)}</footer></body></html>\n"
    )
