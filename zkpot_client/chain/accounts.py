"""Where a role process gets its signing key: a key file, an ape keystore account
(`ape accounts generate/import`), or a development account."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ..exceptions import ZKPoTFileNotFoundError, ZKPoTValueError
from ..paths import write_atomically
from .backend import dev_account as dev_account_of


def load_account(
    key_file: Path | None = None,
    dev_account: int | None = None,
    ape_account: str | None = None,
) -> LocalAccount:
    """The account of `key_file` (a hex private key, `0x` optional), of the ape
    keystore account aliased `ape_account`, or development account number
    `dev_account` of the well-known test mnemonic (local chains only)."""
    given = [x is not None for x in (key_file, dev_account, ape_account)]
    if sum(given) != 1:
        raise ZKPoTValueError(
            "give exactly one of --key-file, --account and --dev-account"
        )
    if ape_account is not None:
        return load_ape_account(ape_account)
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


def ape_data_folder() -> Path:
    """ape's data folder, where `ape accounts` keeps its keystores: $APE_DATA_FOLDER,
    else ~/.ape (as ape finds it)."""
    folder = os.environ.get("APE_DATA_FOLDER")
    return Path(folder) if folder else Path.home() / ".ape"


def ape_keystore(alias: str) -> Path:
    """The keystore file of ape account `alias` (raise if there is none)."""
    if not alias or Path(alias).name != alias:
        raise ZKPoTValueError(f"{alias!r} is not an ape account alias")
    folder = ape_data_folder() / "accounts"
    path = folder / f"{alias}.json"
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.json"))
        raise ZKPoTFileNotFoundError(
            f"no ape account {alias!r} in {folder} (create one with `ape accounts "
            f"generate {alias}` or `ape accounts import {alias}`; known: "
            f"{', '.join(known) or 'none'})"
        )
    return path


def passphrase_variable(alias: str) -> str:
    """The environment variable ape reads account `alias`'s passphrase from."""
    return f"APE_ACCOUNTS_{alias}_PASSPHRASE"


def load_ape_account(alias: str, passphrase: str | None = None) -> LocalAccount:
    """Unlock ape keystore account `alias` (a standard encrypted keystore JSON under
    ape's data folder) with `passphrase`, else the one in ape's environment variable
    APE_ACCOUNTS_<alias>_PASSPHRASE, else one asked for without echo (a terminal
    only). A wrong passphrase raises ZKPoTValueError: it is tried once."""
    path = ape_keystore(alias)
    variable = passphrase_variable(alias)
    if passphrase is None:
        passphrase = os.environ.get(variable)
    if passphrase is None:
        if not sys.stdin.isatty():
            raise ZKPoTValueError(
                f"ape account {alias!r} is locked: set {variable} or run on a terminal"
            )
        import getpass

        passphrase = getpass.getpass(f"Enter passphrase to unlock {alias!r}: ")
    try:
        keystore = json.loads(path.read_text())
    except ValueError as exc:
        raise ZKPoTValueError(f"{path} is not a keystore (JSON)") from exc
    try:
        key = Account.decrypt(keystore, passphrase)
    except ValueError as exc:  # eth-account's "MAC mismatch"
        raise ZKPoTValueError(
            f"wrong passphrase for ape account {alias!r} ({path})"
        ) from exc
    return Account.from_key(key)
