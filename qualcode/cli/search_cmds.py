"""Commands that search the corpus and look for new themes: search, words, discover."""
from __future__ import annotations

from enum import Enum

import typer

from qualcode.cli.app import DB_HELP, UserError, app, console, err_console, existing_store, progress_bar

QUERY_HELP = ('Words match every inflection and compounds they are the head of ("veiledning" finds '
              '"foreldreveiledningen"); "a phrase", NEAR(a b, 5), OR, NOT (or -word), word*, (…). '
              "Operators may be written in Norwegian: OG, ELLER, IKKE, NÆR.")


class WordsBy(str, Enum):
    theme = "theme"
    code = "code"
    place = "place"
    year = "year"
    doc_type = "type"


class Among(str, Enum):
    uncoded = "uncoded"
    unfitted = "unfitted"
    all = "all"




def _filters(municipality, year, doc_type, code, without_code, reviewed, all_segments):
    from qualcode.search.search import Filters

    return Filters(places=tuple(municipality or ()), years=tuple(year or ()), doc_types=tuple(doc_type or ()),
                   code=code, without_code=without_code, reviewed=reviewed, codable_only=not all_segments)


@app.command()
def search(
    query: str = typer.Argument(..., help=QUERY_HELP),
    municipality: list[str] = typer.Option(None, "--kommune", help="Only these municipalities (repeatable)."),
    year: list[int] = typer.Option(None, "--year", help="Only these years (repeatable)."),
    doc_type: list[str] = typer.Option(None, "--type", help="Only these document types, e.g. plan, intervju."),
    code: str = typer.Option(None, "--code", help="Only segments that have this code (confirmed, or suggested "
                                                  "where nobody has reviewed)."),
    without_code: str = typer.Option(None, "--without-code", help="Only segments without this code."),
    reviewed: bool = typer.Option(None, "--reviewed/--not-reviewed", help="Only segments a reviewer finished "
                                                                         "(or only those nobody has)."),
    parts: bool = typer.Option(False, "--parts", help="Also match words inside compounds, not only as their head "
                                                      '("veiledning" then finds "veiledningstilbud").'),
    all_segments: bool = typer.Option(False, "--all-segments", help="Also search headings and interviewer "
                                                                    "questions."),
    limit: int = typer.Option(20, "-n", "--limit", min=0, help="Hits to print (all are counted)."),
    code_all: str = typer.Option(None, "--code-all", help="Apply this code to every hit as --reviewer "
                                                          "(audited; undo it in the app's Søk page)."),
    propose: str = typer.Option(None, "--propose", help="Save the search as a pattern proposal for this code "
                                                        "(shows up in the app's Kodebok for review)."),
    reviewer: str = typer.Option(None, "--reviewer", help="Your name, for --code-all and --propose."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Search the corpus; print the hits as keyword-in-context lines with document, page and segment.

    Examples: `qualcode search veiledning`, `qualcode search '"tidlig innsats" NOT skole' --kommune "Fjordvik
    kommune"`, `qualcode search 'NEAR(foreldre veiledning, 5)' --year 2025 -n 50`,
    `qualcode search 'ventetid*' --code-all barriere.kapasitet --reviewer Kari`
    """
    from qualcode.search.query import QueryError
    from qualcode.search.search import search as run_search
    from qualcode.store import session_factory

    if (code_all or propose) and not (reviewer or "").strip():
        raise UserError("--code-all and --propose need --reviewer NAME (every change is stored with who made it)")
    factory = session_factory(existing_store(db))
    filters = _filters(municipality, year, doc_type, code, without_code, reviewed, all_segments)
    with progress_bar() as bar:
        task = bar.add_task("Indexing segments for search", total=None)
        try:
            result = run_search(factory, query, filters, parts=parts, limit=limit,
                                progress=lambda done, todo: bar.update(task, completed=done, total=todo))
        except QueryError as err:
            raise UserError(f"cannot read the search {query!r}: {err}") from None
    _print_hits(result)
    if code_all:
        _code_all(factory, result, code_all, reviewer, filters)
    if propose:
        from qualcode.search.coding import save_proposal

        pid = save_proposal(factory, propose, query, reviewer, parts=parts, filters=filters, hits=result.total)
        console.print(f"Saved as pattern proposal {pid} for {propose}; accept or dismiss it in the app (Kodebok).")


def _print_hits(result) -> None:
    from rich.markup import escape
    from rich.table import Table

    documents = len({h.document_id for h in result.hits})
    if result.indexed:
        err_console.print(f"Indexed {result.indexed} segment(s) that the search index lacked.")
    table = Table(show_lines=False, pad_edge=False, box=None, header_style="bold")
    table.add_column("#", justify="right", style="dim")
    table.add_column("document, page, segment", overflow="fold", max_width=38)
    table.add_column("context", ratio=1)
    for i, hit in enumerate(result.hits, start=1):
        left, keyword, right = hit.kwic(48)
        table.add_row(str(i), escape(f"{hit.citation} [id {hit.segment_id}]"),
                      f"{escape(left)}[bold yellow]{escape(keyword)}[/]{escape(right)}")
    if result.hits:
        console.print(table)
    shown = f"; showing {len(result.hits)}" if len(result.hits) < result.total else ""
    console.print(f"{result.total} segment(s) match {result.query!r}{shown} "
                  f"({result.seconds:.2f} s, {result.backend}).", highlight=False)
    if not result.hits and documents == 0 and result.total == 0:
        console.print("Tip: a word finds its inflections and compounds; try word* for other endings, or --parts.")


def _code_all(factory, result, code: str, reviewer: str, filters) -> None:
    from qualcode.review.actions import UnknownCodeError
    from qualcode.search.coding import code_hits

    try:
        batch = code_hits(factory, result, code, reviewer, filters=filters)
    except UnknownCodeError as err:
        raise UserError(f"{err}; `qualcode status` lists the codes") from None
    console.print(f"Coded {len(batch.segments)} segment(s) with {code} as {reviewer} (audit id {batch.audit_id})"
                  + (f"; {len(batch.already)} had it already" if batch.already else "")
                  + (f"; {len(batch.changed)} changed meanwhile and were left alone" if batch.changed else "")
                  + ".")


@app.command()
def words(
    by: WordsBy = typer.Option(WordsBy.theme, "--by", help="Group by theme, code, place (municipality), year "
                                                            "or type."),
    top: int = typer.Option(10, "-n", "--top", min=1, help="Words per group."),
    distinguishing: bool = typer.Option(False, "--distinguishing", "-d",
                                        help="The words that set each group apart from the rest (log-odds z), "
                                             "instead of the most frequent."),
    include_machine: bool = typer.Option(False, "--include-machine",
                                         help="Themes and codes: also count machine suggestions on segments "
                                              "nobody has reviewed."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Most frequent (or most distinguishing) words per theme, code, municipality, year or document type.

    Words are lemmas; Norwegian stop words (bokmål and nynorsk) and numbers are left out.
    The same tables are in `qualcode report` (HTML and xlsx) and the app's Søk page.

    Examples: `qualcode words --by place -n 15`, `qualcode words --by theme --distinguishing --include-machine`
    """
    import time

    from rich.markup import escape
    from rich.table import Table

    from qualcode.search.frequencies import word_frequencies

    started = time.perf_counter()
    key = by.value if by is not WordsBy.doc_type else "doc_type"
    frame = word_frequencies(existing_store(db), key, top, distinguishing_words=distinguishing,
                             include_machine=include_machine)
    seconds = time.perf_counter() - started
    table = Table(header_style="bold", box=None)
    for column in frame.columns:
        table.add_column(column, justify="right" if frame[column].dtype.kind in "if" else "left")
    for row in frame.itertuples(index=False):
        table.add_row(*(escape(str(v)) for v in row))
    console.print(table)
    console.print(f"{frame['group'].nunique() if len(frame) else 0} group(s) ({seconds:.2f} s).")


@app.command()
def discover(
    among: Among = typer.Option(Among.uncoded, "--among", help="uncoded: segments without codes (reviewed "
                                                               "without codes, or with no machine suggestion); "
                                                               "unfitted: reviewed segments without codes; "
                                                               "all: every codable segment."),
    query: str = typer.Option(None, "--query", "-q", help="Only segments matching this search."),
    groups: int = typer.Option(8, "-k", "--groups", min=2, max=30, help="How many groups to look for."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Suggest new codes: groups of segments about the same thing among those no code fits.

    TF-IDF on lemmas + NMF. Each group is printed with its distinguishing words and
    three typical segments; name a group and turn it into a code in the app (Søk → Nye koder).

    Examples: `qualcode discover`, `qualcode discover --among all -q 'frivillig*' -k 4`
    """
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from qualcode.search.discover import AMONG, candidate_segments
    from qualcode.search.discover import discover as run_discover
    from qualcode.search.query import QueryError
    from qualcode.search.search import Filters, load_hits, search as run_search
    from qualcode.store import session_factory

    factory = session_factory(existing_store(db))
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err_console,
                  transient=True) as bar:
        task = bar.add_task("Finding segments", total=1.0)
        subset = None
        if query:
            try:
                subset = run_search(factory, query, Filters(), limit=0).ids
            except QueryError as err:
                raise UserError(f"cannot read the search {query!r}: {err}") from None
        with factory() as session:
            ids = candidate_segments(session, among.value, subset)
        result = run_discover(factory, ids, groups,
                              progress=lambda share, what: bar.update(task, completed=share, description=what))
    if not result.groups:
        console.print(result.note or "No groups found.")
        return
    with factory() as session:
        typical = {h.segment_id: h for h in load_hits(session, [s for g in result.groups for s in g.typical])}
    table = Table(header_style="bold", show_lines=True)
    table.add_column("group", justify="right")
    table.add_column("segments", justify="right")
    table.add_column("distinguishing words", max_width=30)
    table.add_column("typical segments", ratio=1)
    for g in result.groups:
        examples = "\n".join(f"• {escape(_short(typical[s].text))} [dim]({escape(typical[s].citation)})[/]"
                             for s in g.typical if s in typical)
        table.add_row(str(g.number), str(g.size), escape(", ".join(g.words[:8])), examples)
    console.print(table)
    console.print(f"{len(result.groups)} group(s) among {result.segments} {AMONG[among.value]} "
                  f"({result.seconds:.1f} s).", highlight=False)


def _short(text: str, width: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width].rsplit(" ", 1)[0] + " …"
