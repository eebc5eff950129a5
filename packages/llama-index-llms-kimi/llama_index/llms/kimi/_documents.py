"""``DocumentBlock`` -> text through Kimi's Files API (``purpose="file-extract"``).

The chat API takes no documents; Moonshot's documented pattern uploads the file for extraction
and puts the extracted content in the conversation. Each distinct document is uploaded once per
``Kimi`` instance (agents resend the whole history every turn, and an account holds at most
1,000 files), keyed by a hash of its bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from llama_index.core.base.llms.types import ChatMessage, DocumentBlock, TextBlock

if TYPE_CHECKING:
    from kimi_core import KimiClient

__all__ = ["DocumentExtractor", "has_documents"]


def has_documents(messages: Sequence[ChatMessage]) -> bool:
    """Whether any message holds a ``DocumentBlock``."""
    return any(isinstance(b, DocumentBlock) for m in messages for b in m.blocks)


def _payload(block: DocumentBlock) -> tuple[bytes, str | None, str]:
    data = block.resolve_document().read()
    # file-extract picks its parser from the file name's extension; without one kimi-core names
    # the upload after the MIME type.
    name = Path(str(block.path)).name if block.path else block.title
    if name is not None and not Path(name).suffix:
        name = None
    return data, name, hashlib.sha256(data).hexdigest()


class DocumentExtractor:
    """Replaces document blocks by text blocks holding the Files API's extraction."""

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}

    def _replace(
        self, messages: Sequence[ChatMessage], texts: dict[int, TextBlock]
    ) -> list[ChatMessage]:
        out = []
        for message in messages:
            if not any(id(b) in texts for b in message.blocks):
                out.append(message)
                continue
            blocks = [texts.get(id(b), b) for b in message.blocks]
            out.append(message.model_copy(update={"blocks": blocks}))
        return out

    def _pending(
        self, messages: Sequence[ChatMessage]
    ) -> list[tuple[DocumentBlock, bytes, str | None, str]]:
        return [
            (block, *_payload(block))
            for message in messages
            for block in message.blocks
            if isinstance(block, DocumentBlock)
        ]

    def extract(self, messages: Sequence[ChatMessage], client: KimiClient) -> list[ChatMessage]:
        """The history with every document replaced by its extracted text.

        The caller's list and messages are left untouched.
        """
        texts: dict[int, TextBlock] = {}
        for block, data, name, digest in self._pending(messages):
            if digest not in self._texts:
                uploaded = client.files.upload(
                    data, purpose="file-extract", filename=name, mime_type=block.document_mimetype
                )
                self._texts[digest] = client.files.content(uploaded.id)
            texts[id(block)] = TextBlock(text=self._texts[digest])
        return self._replace(messages, texts)

    async def aextract(
        self, messages: Sequence[ChatMessage], client: KimiClient
    ) -> list[ChatMessage]:
        """Async :meth:`extract`."""
        texts: dict[int, TextBlock] = {}
        for block, data, name, digest in self._pending(messages):
            if digest not in self._texts:
                uploaded = await client.afiles.upload(
                    data, purpose="file-extract", filename=name, mime_type=block.document_mimetype
                )
                self._texts[digest] = await client.afiles.content(uploaded.id)
            texts[id(block)] = TextBlock(text=self._texts[digest])
        return self._replace(messages, texts)
