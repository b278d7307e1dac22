"""A run of the pipeline: what ran (NLP pipeline, codebook, model) and what it did."""
from __future__ import annotations

from collections.abc import Mapping

from qualcode.store import schema
from qualcode.store.schema import utcnow


def start_run(factory, command: str, *, code: bool = True, codebook_path=None) -> schema.Run:
    """Record the start of a run; with ``code``, load the coder so its names are recorded too."""
    run = schema.Run(command=command, stats={})
    if code:
        from qualcode.coding.apply import current_coder

        from qualcode.coding.training import model_status

        coder = current_coder(codebook_path)
        run.nlp_pipeline = coder.pipeline
        run.codebook_version = coder.codebook.version
        with factory() as session:
            status = model_status(session, coder.codebook)
        run.model_version = status.version if status.usable else None
        run.stats = {"model": status.reason}
    with factory.begin() as session:
        session.add(run)
    return run


def finish_run(factory, run: schema.Run, stats: Mapping[str, int]) -> None:
    with factory.begin() as session:
        row = session.get(schema.Run, run.id)
        row.finished_at = utcnow()
        row.stats = {**(row.stats or {}), **dict(stats)}


def coding_hook(run: schema.Run, codebook_path=None):
    """The function `ingest` calls inside each document's transaction to code its segments."""
    from qualcode.coding.apply import code_new_segments, current_coder

    coder = current_coder(codebook_path)
    with_model: list = []  # the store's model, looked up once per run (on the first document)

    def hook(session, document, segments, _run) -> None:
        if not with_model:
            with_model.append(coder.with_store_model(session))
        code_new_segments(session, with_model[0], [s for s in segments if s.codable])

    return hook
