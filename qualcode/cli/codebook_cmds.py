"""`qualcode codebook …`: list, add, rename, move, merge, delete codes, undo, re-code."""
from __future__ import annotations

from pathlib import Path

import typer

from qualcode.cli.app import DB_HELP, UserError, app, console, existing_store, progress_bar

codebook_app = typer.Typer(
    help=("Manage the store's codebook: list, add, rename, move, merge and delete codes, undo the last change.\n\n"
          "Changes go to the store's own copy `<store>.codebook.yaml` (the shipped codebook is never changed; "
          "comments in the file are kept). Codings follow their code (rename, move, merge); a delete hides them "
          "and `undo` brings them back. Afterwards the machine suggestions on stored segments are re-coded "
          "(reviewer decisions are never touched). Every change is audited.\n\n"
          "Example: `qualcode codebook rename barriere.okonomi --name \"Økonomi og ressurser\"`"),
    no_args_is_help=True,
)
app.add_typer(codebook_app, name="codebook")

ACTOR_HELP = "Your name, stored with the change (default: $QUALCODE_USER or $USER)."
RECODE_HELP = "Re-code machine suggestions on the stored segments afterwards (reviewer decisions are kept)."



def _actor(name: str | None) -> str:
    import os

    name = (name or os.environ.get("QUALCODE_USER") or os.environ.get("USER") or "").strip()
    if not name:
        raise UserError("say who makes the change: --by NAME (or set $QUALCODE_USER)")
    return name


def _recode(db: str, factory, path: Path) -> None:
    from qualcode.coding.coder import current_coder
    from qualcode.review.recode import recode_store

    coder = current_coder(str(path))
    with progress_bar() as bar:
        task = bar.add_task("Re-coding suggestions", total=None)
        written = recode_store(factory, coder, progress=lambda done, total: bar.update(task, completed=done,
                                                                                       total=total))
    console.print(f"Re-coded machine suggestions: {written} coding(s) written with codebook {coder.codebook.version}.")


def _change(db: str | None, by: str | None, recode: bool, action: str, **kw) -> None:
    from qualcode.coding.codebook import CodebookError
    from qualcode.coding.store_codebook import codebook_path_for, own_codebook_path
    from qualcode.review.codebook_changes import change_codebook
    from qualcode.store import session_factory

    db = existing_store(db)
    factory = session_factory(db)
    own = own_codebook_path(db)
    try:
        result = change_codebook(factory, codebook_path_for(db), own, _actor(by), action, **kw)
    except CodebookError as err:
        raise UserError(str(err).replace("\n", "; ")) from None
    parts = [f"codebook version {result.book.version} → {own}"]
    if result.copied or result.folded:
        parts.append(f"{result.copied} coding(s) moved, {result.folded} folded")
    if result.deactivated:
        parts.append(f"{result.deactivated} coding(s) hidden (`qualcode codebook undo` brings them back)")
    console.print(f"{action.capitalize()}: " + "; ".join(parts), soft_wrap=True, highlight=False)
    if recode:
        _recode(db, factory, own)


@codebook_app.command("list")
def list_codes(db: str = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """List themes and codes of the codebook the store uses, with how often each is used.

    Example: `qualcode codebook list`
    """
    from rich.table import Table

    from qualcode.coding.codebook import load_codebook
    from qualcode.coding.store_codebook import codebook_path_for
    from qualcode.review.progress import code_counts
    from qualcode.store import session_factory

    db = existing_store(db)
    path = codebook_path_for(db)
    book = load_codebook(path)
    with session_factory(db)() as session:
        counts = code_counts(session, book).set_index("kode")
    table = Table(title=f"{book.name} ({book.version_label}, version {book.version}) — {path}", title_justify="left")
    for col in ("theme", "code", "name", "suggested", "confirmed", "rejected"):
        table.add_column(col, justify="right" if col in ("suggested", "confirmed", "rejected") else "left")
    for theme in book.themes:
        for code in theme.codes:
            n = counts.loc[code.id]
            table.add_row(theme.name, code.id, code.name, str(n["forslag"]), str(n["bekreftet"]), str(n["avvist"]))
    console.print(table)


@codebook_app.command()
def add(
    code_id: str = typer.Argument(..., help="theme.name, or theme.name.sub for a nested code."),
    name: str = typer.Option(..., "--name", help="Name shown in the app and reports."),
    definition: str = typer.Option(..., "--definition", help="What the code means."),
    pattern: list[str] = typer.Option(..., "--pattern", "-p", help="Evidence word or phrase (repeatable); "
                                      "'*' at a word's start or end matches any beginning or ending."),
    example: list[str] = typer.Option([], "--example", "-e", help="An example sentence (repeatable)."),
    include: str = typer.Option("", "--include", help="What belongs under the code."),
    exclude: str = typer.Option("", "--exclude", help="What does not."),
    theme_name: str = typer.Option(None, "--theme-name", help="Name of a new theme (when the id's theme is new)."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
    by: str = typer.Option(None, "--by", help=ACTOR_HELP),
    recode: bool = typer.Option(True, "--recode/--no-recode", help=RECODE_HELP),
) -> None:
    """Add a code (validated like the rest of the codebook).

    Example: `qualcode codebook add barriere.kapasitet.rekruttering --name Rekruttering
    --definition "Vansker med å rekruttere fagfolk." -p "rekrutter*" -p "ledige stillinger"`
    """
    code = {"id": code_id, "name": name, "definition": definition, "patterns": list(pattern),
            "examples": list(example), "include": include, "exclude": exclude}
    _change(db, by, recode, "add", code=code, theme_name=theme_name)


@codebook_app.command()
def rename(
    code_id: str = typer.Argument(..., help="The code to rename."),
    name: str = typer.Option(None, "--name", help="New name."),
    new_id: str = typer.Option(None, "--id", help="New id (codings follow; nested codes move along)."),
    theme_name: str = typer.Option(None, "--theme-name", help="Name of a new theme, if the new id starts one."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
    by: str = typer.Option(None, "--by", help=ACTOR_HELP),
    recode: bool = typer.Option(True, "--recode/--no-recode", help=RECODE_HELP),
) -> None:
    """Give a code a new name and/or id; every coding keeps its code.

    Example: `qualcode codebook rename barriere.okonomi --id barriere.ressurser --name "Ressurser"`
    """
    if not name and not new_id:
        raise UserError("give --name and/or --id")
    _change(db, by, recode, "rename", code_id=code_id, new_id=new_id, name=name, theme_name=theme_name)


@codebook_app.command()
def move(
    code_id: str = typer.Argument(..., help="The code to move."),
    theme: str = typer.Argument(..., help="Theme id to file it under (its id's first part changes)."),
    theme_name: str = typer.Option(None, "--theme-name", help="Name of the theme, if it is new."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
    by: str = typer.Option(None, "--by", help=ACTOR_HELP),
    recode: bool = typer.Option(True, "--recode/--no-recode", help=RECODE_HELP),
) -> None:
    """File a code under another theme (a.b → t.b); codings follow.

    Example: `qualcode codebook move begrep.tidlig_innsats niva`
    """
    _change(db, by, recode, "move", code_id=code_id, theme_id=theme, theme_name=theme_name)


@codebook_app.command()
def merge(
    source: str = typer.Argument(..., help="The code that goes away."),
    target: str = typer.Argument(..., help="The code that stays."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
    by: str = typer.Option(None, "--by", help=ACTOR_HELP),
    recode: bool = typer.Option(True, "--recode/--no-recode", help=RECODE_HELP),
) -> None:
    """Merge SOURCE into TARGET: codings move (a reviewer's two decisions fold into one), patterns join.

    Example: `qualcode codebook merge barriere.tiltak barriere.kapasitet`
    """
    _change(db, by, recode, "merge", source_id=source, target_id=target)


@codebook_app.command()
def delete(
    code_id: str = typer.Argument(..., help="The code to delete."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
    by: str = typer.Option(None, "--by", help=ACTOR_HELP),
    recode: bool = typer.Option(True, "--recode/--no-recode", help=RECODE_HELP),
) -> None:
    """Delete a code; its codings are hidden, not erased (`qualcode codebook undo` restores them).

    Example: `qualcode codebook delete perspektiv.barn`
    """
    from qualcode.review.codebook_changes import impact
    from qualcode.store import session_factory

    with session_factory(existing_store(db))() as session:
        found = impact(session, [code_id])
    console.print(f"{code_id} has {found.suggestions} machine suggestion(s), {found.decisions} reviewer decision(s) "
                  f"and {found.adjudications} adjudication(s) on {found.segments} segment(s).", highlight=False)
    if not yes and not typer.confirm("Delete it and hide these codings?", default=False):
        raise typer.Exit(1)
    _change(db, by, recode, "delete", code_id=code_id)


@codebook_app.command()
def undo(
    db: str = typer.Option(None, "--db", help=DB_HELP),
    by: str = typer.Option(None, "--by", help=ACTOR_HELP),
    recode: bool = typer.Option(True, "--recode/--no-recode", help=RECODE_HELP),
) -> None:
    """Take back the newest codebook change, with exactly the codings it moved or hid.

    Example: `qualcode codebook undo`
    """
    from qualcode.coding.codebook import CodebookError
    from qualcode.coding.store_codebook import own_codebook_path
    from qualcode.review.codebook_changes import undo_last_change
    from qualcode.store import session_factory

    db = existing_store(db)
    factory = session_factory(db)
    own = own_codebook_path(db)
    try:
        change = undo_last_change(factory, own, _actor(by))
    except CodebookError as err:
        raise UserError(str(err)) from None
    if change is None:
        console.print("Nothing to undo.")
        return
    console.print(f"Undid change {change.id} ({change.action}); codebook is version {change.before_version} again.",
                  highlight=False)
    if recode:
        _recode(db, factory, own)


@codebook_app.command("recode")
def recode_cmd(db: str = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Re-code machine suggestions on every stored segment with the store's codebook (reviewer decisions kept).

    Example: `qualcode codebook recode`
    """
    from qualcode.coding.store_codebook import codebook_path_for
    from qualcode.store import session_factory

    db = existing_store(db)
    _recode(db, session_factory(db), codebook_path_for(db))
