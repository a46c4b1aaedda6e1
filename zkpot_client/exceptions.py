"""The exception hierarchy: one root, each leaf also a matching builtin."""

from __future__ import annotations


class ZKPoTError(Exception):
    """Root of every error raised by ZKPoT."""


class ZKPoTValueError(ZKPoTError, ValueError):
    """A value given by the user or read from a file is not acceptable."""


class ZKPoTFileNotFoundError(ZKPoTError, FileNotFoundError):
    """A file or directory the user named does not exist."""


class ToolchainError(ZKPoTError, RuntimeError):
    """A tool ZKPoT needs (solc wrapper, anvil, ezkl) is missing or failed."""


class ChainConnectionError(ZKPoTError, ConnectionError):
    """The EVM node cannot be reached."""


class ContractRevertError(ZKPoTError, RuntimeError):
    """A transaction or call reverted; `name` and `args` give the custom error."""

    def __init__(self, name: str, args: dict[str, object] | None = None) -> None:
        self.name = name
        self.error_args = dict(args or {})
        shown = ", ".join(f"{k}={_short(v)}" for k, v in self.error_args.items())
        super().__init__(f"{name}({shown})")


class CommitmentMismatchError(ZKPoTError, ValueError):
    """Weights handed to the aggregator do not hash to the on-chain commitment."""


class BatchMismatchError(ZKPoTError, ValueError):
    """A revealed evaluation batch does not match what the chain holds for its round."""


class ContentNotFoundError(ZKPoTError, KeyError):
    """The content store holds nothing under this CID."""

    def __str__(self) -> str:  # KeyError would print the repr
        return str(self.args[0]) if self.args else "content not found"


class CorruptContentError(ZKPoTValueError):
    """Bytes read from a content store do not hash to the CID they were asked by."""


class StoreConnectionError(ZKPoTError, ConnectionError):
    """The content store's IPFS node cannot be reached."""


class StoreNodeError(ZKPoTError, RuntimeError):
    """The content store's IPFS node refused or failed a request."""


class RecordChainError(ZKPoTError, ValueError):
    """The round records read from events do not form the chain the contract stores,
    or disagree with the contributions they summarise."""


def _short(value: object) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)
