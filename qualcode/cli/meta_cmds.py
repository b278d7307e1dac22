"""`qualcode meta FILE`: show or correct a stored document's municipality, year, type, role and size class."""
from __future__ import annotations

import typer

from qualcode.cli.app import DB_HELP, UserError, app, console, existing_store

UNSET = "\0unset"  # tells "option not given" from "given empty" (an empty value clears the field)


@app.command()
def meta(
    document: str = typer.Argument(..., help="A stored document: its file name or id (see `qualcode status`)."),
    municipality: str = typer.Option(UNSET, "--municipality", show_default=False,
                                     help="Municipality, e.g. \"Fjordvik kommune\" (\"\" clears it)."),
    year: str = typer.Option(UNSET, "--year", show_default=False, help="Year, e.g. 2024 (\"\" clears it)."),
    doc_type: str = typer.Option(UNSET, "--type", show_default=False, help="Document type: plan, intervju, …"),
    informant_role: str = typer.Option(UNSET, "--informant-role", show_default=False,
                                       help="Interviews: the informant's role, e.g. barnevernleder."),
    size_class: str = typer.Option(UNSET, "--size-class", show_default=False,
                                   help="Size class: liten, mellomstor, stor."),
    confirm: bool = typer.Option(False, "--confirm", help="Accept the guessed (inferred) values as they are."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
    by: str = typer.Option(None, "--by", help="Your name, stored with the change (default: $QUALCODE_USER or $USER)."),
) -> None:
    """Show a stored document's metadata, or correct it; every change is audited.

    Without options it prints the metadata, marking values guessed from the file name
    or title page as "(inferred)". A value you set (or --confirm) is no longer inferred.

    Example: `qualcode meta plan-kommune-a.pdf --municipality "Tjernåsen kommune" --year 2024 --type plan`
    """
    from qualcode.cli.codebook_cmds import _actor
    from qualcode.metadata import FIELDS, MetadataError, confirm_metadata, edit_metadata, find_documents
    from qualcode.store import session_factory

    db = existing_store(db)
    factory = session_factory(db)
    with factory() as session:
        found = find_documents(session, document)
        choices = [(d.id, d.file_name, d.ingested_at) for d in found]
    if not found:
        raise UserError(f"{document}: no such document in {db} (give its file name or id; `qualcode status` lists them)")
    if len(found) > 1:
        listing = ", ".join(f"id {i} (ingested {at:%Y-%m-%d %H:%M})" for i, _, at in choices)
        raise UserError(f"{document}: {len(found)} stored documents have this file name: {listing}; give the id")
    doc_id = found[0].id
    given = {"municipality": municipality, "year": year, "doc_type": doc_type, "informant_role": informant_role,
             "size_class": size_class}
    changes = {k: v for k, v in given.items() if v != UNSET}
    try:
        if changes:
            changed = edit_metadata(factory, doc_id, _actor(by), **changes)
            console.print(f"Updated {', '.join(FIELDS[f][0] for f in changed) or 'nothing (same values)'}"
                          f" of document {doc_id}.", highlight=False)
        if confirm:
            confirmed = confirm_metadata(factory, doc_id, _actor(by))
            console.print(f"Confirmed {', '.join(FIELDS[f][0] for f in confirmed) or 'nothing (no guesses left)'}.",
                          highlight=False)
    except MetadataError as err:
        raise UserError(f"{document}: {err}") from None
    with factory() as session:
        from qualcode.store import schema

        doc = session.get(schema.Document, doc_id)
        inferred = set(doc.metadata_inferred or [])
        console.print(f"[bold]{doc.file_name}[/bold] (id {doc.id})", highlight=False)
        for field, (column, _label) in FIELDS.items():
            value = getattr(doc, field)
            mark = " (inferred)" if field in inferred else ""
            console.print(f"  {column:<15} {'–' if value in (None, '') else value}{mark}", highlight=False)
