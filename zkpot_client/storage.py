"""Content-addressed storage for large artefacts (models, sealed weights).

Objects are addressed by IPFS-style CIDv1 (raw codec, sha2-256 multihash,
base32), so a CID names exactly one byte string and every read is checked
against its CID. The default store is a local directory; an IPFS node reached
over the Kubo RPC API (`ipfs_store.KuboStore`) gives the same CIDs, and any other
store with the same `put`/`get` can stand in. `open_store` picks one from a
location: a URL or a directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from multiformats import CID, multihash

from .exceptions import (
    ContentNotFoundError,
    CorruptContentError,
    ZKPoTFileNotFoundError,
    ZKPoTValueError,
)
from .paths import write_atomically


def cid_of(data: bytes) -> str:
    """The CIDv1 (raw, sha2-256, base32) of `data`."""
    return str(CID("base32", 1, "raw", multihash.digest(data, "sha2-256")))


class ContentStore(Protocol):
    """Anything that stores bytes under their CID."""

    def put(self, data: bytes) -> str:
        """Store `data`; return its CID."""
        ...

    def get(self, cid: str) -> bytes:
        """Return the bytes stored under `cid`, checked against it."""
        ...


class LocalDirStore:
    """A content store in a local directory, one file per CID."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def put(self, data: bytes) -> str:
        cid = cid_of(data)
        path = self.root / cid
        if not path.exists():
            write_atomically(path, data)
        return cid

    def get(self, cid: str) -> bytes:
        try:
            parsed = CID.decode(cid)
        except Exception as exc:  # multiformats raises several kinds
            raise ZKPoTValueError(f"not a CID: {cid!r}") from exc
        path = self.root / str(parsed)
        if not path.is_file():
            raise ContentNotFoundError(f"no object {cid} in {self.root}")
        data = path.read_bytes()
        if parsed.digest != multihash.digest(data, parsed.hashfun.name):
            raise CorruptContentError(f"object {cid} in {self.root} is corrupt")
        return data


def open_store(
    location: str | os.PathLike[str], *, create: bool = True
) -> ContentStore:
    """Open the content store at `location`: the URL of an IPFS node's RPC API
    (``http://`` or ``https://``), else a local directory (made if missing, unless
    `create` is False: a reader's store must already be there)."""
    text = os.fspath(location)
    if text.startswith(("http://", "https://")):
        from .ipfs_store import KuboStore

        return KuboStore(text)
    if not create and not Path(text).is_dir():
        raise ZKPoTFileNotFoundError(f"no content store directory {text}")
    return LocalDirStore(text)
