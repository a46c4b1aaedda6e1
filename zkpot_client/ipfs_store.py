"""A content store on an IPFS node, spoken to over the Kubo RPC API.

`KuboStore(url)` puts and gets bytes through the node's HTTP RPC API (``POST
/api/v0/...``), as served by Kubo and by js-ipfs. Every object is one raw block
(CIDv1, raw codec, sha2-256), so its CID is `storage.cid_of` of its bytes, the
same as in a local directory store, whatever its size:

- up to 1 MiB (Kubo's largest chunk and block) it is added as a file (``add``
  with raw leaves and a 1 MiB chunker): a file of one chunk is its raw leaf;
- larger objects (the SRS, a circuit, big models) would be chunked by ``add``
  into a tree whose root CID differs from `cid_of`, so they go in as a one-block
  CAR (``dag/import`` with ``allow-big-block``). Such a block is served by the
  node that holds it, but IPFS peers do not pass blocks over 1 MiB to each other
  (bitswap): roles that share a store should share the node (or a cluster of
  nodes that replicate pins), not expect the swarm to carry the big objects.

Both pin what they add. Every `get` (``cat``) is checked against the CID's
digest, so a node, or anything between it and the reader, cannot substitute
other bytes: the CIDs the chain holds bind the content. An object the node does
not have is searched for at most `find_timeout` seconds (Kubo's and js-ipfs's
``timeout`` option), then reported missing.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from multiformats import CID, multihash, varint

from .exceptions import (
    ContentNotFoundError,
    CorruptContentError,
    StoreConnectionError,
    StoreNodeError,
    ZKPoTValueError,
)
from .storage import cid_of

MAX_BLOCK = 1 << 20
"""Largest object added as a file (Kubo's largest chunk and default block limit)."""

_MISSING = ("not found", "could not find", "timed out", "deadline exceeded")
"""What the nodes say when they gave up looking for a block (Kubo, js-ipfs)."""


class KuboStore:
    """A content store on the IPFS node whose RPC API is at `url`.

    Parameters
    ----------
    url
        The node's RPC API, e.g. ``http://127.0.0.1:5001`` (a trailing
        ``/api/v0`` is accepted).
    timeout
        Seconds to wait for the node to answer a request (uploads included).
    find_timeout
        Seconds the node may search for an object it does not hold before a
        `get` or `pin` reports it missing.
    """

    def __init__(
        self, url: str, *, timeout: float = 300.0, find_timeout: float = 30.0
    ) -> None:
        self.url = url.rstrip("/").removesuffix("/api/v0")
        self.timeout = timeout
        self.find_timeout = find_timeout
        self._session = requests.Session()
        # The node is reached directly, never through a proxy from the environment.
        self._session.trust_env = False

    def __repr__(self) -> str:
        return f"KuboStore({self.url!r})"

    def put(self, data: bytes) -> str:
        """Add `data` to the node as one raw block and pin it; return its CID."""
        cid = cid_of(data)
        if len(data) <= MAX_BLOCK:
            lines = self._call(
                "add",
                {
                    "cid-version": 1,
                    "raw-leaves": "true",
                    "hash": "sha2-256",
                    "chunker": f"size-{MAX_BLOCK}",
                    "pin": "true",
                    "progress": "false",
                },
                files={"file": ("object", data, "application/octet-stream")},
            )
            stored = [line["Hash"] for line in _ndjson(lines) if "Hash" in line]
        else:
            lines = self._call(
                "dag/import",
                {"pin-roots": "true", "allow-big-block": "true"},
                files={
                    "file": ("object.car", _car(cid, data), "application/vnd.ipld.car")
                },
            )
            roots = [line["Root"] for line in _ndjson(lines) if "Root" in line]
            errors = [r["PinErrorMsg"] for r in roots if r.get("PinErrorMsg")]
            if errors:
                raise StoreNodeError(
                    f"the IPFS node at {self.url} did not pin {cid}: {errors[0]}"
                )
            stored = [r["Cid"]["/"] for r in roots]
        if [_normal(c) for c in stored] != [cid]:
            raise StoreNodeError(
                f"the IPFS node at {self.url} stored the object as {stored}, not as {cid}"
            )
        return cid

    def get(self, cid: str) -> bytes:
        """Return the bytes of `cid` from the node, checked against the CID."""
        parsed = _parse(cid)
        data = self._call(
            "cat",
            {"arg": str(parsed), "timeout": f"{self.find_timeout:g}s"},
            missing=cid,
        )
        if parsed.digest != multihash.digest(data, parsed.hashfun.name):
            raise CorruptContentError(
                f"the IPFS node at {self.url} returned bytes for {cid} that do not "
                "hash to it"
            )
        return data

    def pin(self, cid: str) -> None:
        """Pin `cid` on the node (fetching it first if the node must)."""
        self._call(
            "pin/add",
            {"arg": str(_parse(cid)), "timeout": f"{self.find_timeout:g}s"},
            missing=cid,
        )

    def pinned(self, cid: str) -> bool:
        """Whether the node keeps `cid` pinned (it survives garbage collection)."""
        try:
            lines = self._call("pin/ls", {"arg": str(_parse(cid)), "type": "recursive"})
        except StoreNodeError as exc:
            if "not pinned" in str(exc):
                return False
            raise
        keys = {_normal(key) for line in _ndjson(lines) for key in line.get("Keys", {})}
        return _normal(cid) in keys

    # ------------------------------------------------------------ the RPC call
    def _call(
        self,
        command: str,
        params: dict[str, Any],
        *,
        files: dict[str, Any] | None = None,
        missing: str | None = None,
    ) -> bytes:
        """POST `command` to the node's RPC API; return the body of its answer.

        An error answer raises StoreNodeError, or ContentNotFoundError for a
        `missing` object the node gave up looking for."""
        wait = self.timeout + (self.find_timeout if missing else 0.0)
        try:
            response = self._session.post(
                f"{self.url}/api/v0/{command}",
                params=params,
                files=files,
                timeout=(10.0, wait),
            )
        except requests.ConnectionError as exc:
            raise StoreConnectionError(
                f"cannot reach the IPFS node at {self.url}: {exc}"
            ) from exc
        except requests.Timeout as exc:
            raise StoreNodeError(
                f"the IPFS node at {self.url} did not answer `{command}` in {wait:g} s"
            ) from exc
        except requests.RequestException as exc:  # e.g. an answer cut off midway
            raise StoreNodeError(
                f"the IPFS node at {self.url} broke off `{command}`: {exc}"
            ) from exc
        if response.ok:
            return response.content
        message = _message(response)
        if missing is not None and any(m in message.lower() for m in _MISSING):
            raise ContentNotFoundError(
                f"no object {missing} on the IPFS node at {self.url} "
                f"(searched {self.find_timeout:g} s): {message}"
            )
        raise StoreNodeError(
            f"the IPFS node at {self.url} refused `{command}`: {message}"
        )


def _parse(cid: str) -> CID:
    """The raw-block CID `cid` (ZKPoTValueError if it is not one)."""
    try:
        parsed = CID.decode(cid)
    except Exception as exc:  # multiformats raises several kinds
        raise ZKPoTValueError(f"not a CID: {cid!r}") from exc
    if parsed.codec.name != "raw":
        raise ZKPoTValueError(
            f"{cid} is a {parsed.codec.name} CID: the store holds raw blocks only"
        )
    return parsed


def _normal(cid: str) -> str:
    """A CID as the store writes it: base32 (nodes may answer in base58)."""
    return str(CID.decode(cid).set(base="base32"))


def _ndjson(body: bytes) -> list[dict[str, Any]]:
    """The JSON objects of a newline-delimited answer."""
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def _message(response: requests.Response) -> str:
    """The error message of a failed RPC call."""
    try:
        return str(json.loads(response.content)["Message"])
    except (ValueError, KeyError, TypeError):
        text = response.text.strip()
        return f"HTTP {response.status_code}" + (f": {text[:300]}" if text else "")


def _car(cid: str, data: bytes) -> bytes:
    """A CARv1 archive holding `data` as the one block `cid`, its root."""
    binary = bytes(CID.decode(cid))
    link = b"\x00" + binary  # a CID in DAG-CBOR: tag 42 over identity-prefixed bytes
    header = (
        b"\xa2"  # map of 2, keys in DAG-CBOR order (shorter first)
        + _cbor_text("roots")
        + b"\x81\xd8\x2a"  # array of 1, tag 42
        + _cbor_head(2, len(link))
        + link
        + _cbor_text("version")
        + b"\x01"
    )
    block = binary + data
    return varint.encode(len(header)) + header + varint.encode(len(block)) + block


def _cbor_text(text: str) -> bytes:
    raw = text.encode()
    return _cbor_head(3, len(raw)) + raw


def _cbor_head(major: int, length: int) -> bytes:
    """A CBOR item head: major type and length (lengths below 2**16 only)."""
    if length < 24:
        return bytes([major << 5 | length])
    if length < 256:
        return bytes([major << 5 | 24, length])
    return bytes([major << 5 | 25]) + length.to_bytes(2, "big")
