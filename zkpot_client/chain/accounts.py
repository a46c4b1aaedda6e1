"""Where a role process gets its signing key: a key file, or a development account."""

from __future__ import annotations

from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ..exceptions import ZKPoTFileNotFoundError, ZKPoTValueError
from ..paths import write_atomically
from .backend import dev_account as dev_account_of


def load_account(
    key_file: Path | None = None, dev_account: int | None = None
) -> LocalAccount:
    """The account of `key_file` (a hex private key, `0x` optional), or development
    account number `dev_account` of the well-known test mnemonic (local chains only)."""
    if (key_file is None) == (dev_account is None):
        raise ZKPoTValueError("give exactly one of a key file and a dev account")
    if dev_account is not None:
        if not 0 <= dev_account < 1000:
            raise ZKPoTValueError(f"dev account {dev_account} is out of range")
        return dev_account_of(dev_account)
    path = Path(key_file)  # type: ignore[arg-type]
    if not path.is_file():
        raise ZKPoTFileNotFoundError(f"key file not found: {path}")
    text = path.read_text().strip().removeprefix("0x")
    try:
        return Account.from_key(bytes.fromhex(text))
    except ValueError as exc:
        raise ZKPoTValueError(
            f"{path} does not hold a private key (64 hex digits)"
        ) from exc


def write_key_file(account: LocalAccount, path: Path) -> Path:
    """Save an account's private key, readable by its owner only."""
    return write_atomically(path, "0x" + bytes(account.key).hex() + "\n")
