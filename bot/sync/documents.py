"""What the index stores of a fetched and converted item: its document row and its chunks."""

from __future__ import annotations

from collections.abc import Sequence

from bot.sync.convert import ConvertedDocument
from bot.sync.source import FetchedContent
from storage import search_index as index

__all__ = ["document_inputs"]


def document_inputs(
    pairs: Sequence[tuple[FetchedContent, ConvertedDocument]], names: dict[str, tuple[str, str]]
) -> list[tuple[index.DocumentInput, list[index.ChunkInput]]]:
    """Each fetched item with its conversion, as the index takes them; ``names`` is each space id's (key, name)."""
    documents = []
    for item, doc in pairs:
        key, name = names.get(item.ref.space_id, ("", ""))
        row = index.DocumentInput(
            source_id=item.ref.source_id,
            title=item.ref.title,
            url=item.url,
            content_hash=doc.content_hash,
            version=item.ref.version,
            kind=item.ref.kind,
            space_id=item.ref.space_id,
            space_key=key or None,
            space_name=name or None,
            last_modified=item.ref.last_modified,
        )
        documents.append((row, [index.ChunkInput(text=text, heading=heading) for heading, text in doc.chunks]))
    return documents
