"""Circuit setup: settings, compiled circuit, SRS, keys, verifier and key artefact.

Everything a task's circuit needs is built once and cached under a digest of
the ONNX graph, the circuit settings, the SRS and the ezkl version, so re-runs
with the same task reuse the (large) proving key.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ..exceptions import ToolchainError, ZKPoTFileNotFoundError, ZKPoTValueError
from ..paths import cache_dir, install_build
from ..progress import long_step, warn
from . import ezkl_ops
from .ezkl_ops import run_isolated
from .fixed_point import DECOMP_BITS_CHOICES, DIGITS_MLP, Growth, run_args

#: Rows kept free for halo2's blinding factors when choosing the circuit size.
_BLINDING_ROWS = 64
_LAYOUT_VERSION = "zkpot-circuit-5"
"""Bumped when the set-up changes what it builds (2: canonical settings; 3: the
evaluation batch as committed parameters; 4: committed weights, exact arithmetic;
5: the decomposition base chosen per circuit)."""


@dataclass(frozen=True)
class Layout:
    """How a circuit is laid out: its scales, size and decomposition base, for a
    model that grows values as `growth` says."""

    scale: int
    data_scale: int
    logrows: int
    decomp_bits: int
    growth: Growth = DIGITS_MLP

    def run_args(self) -> dict[str, object]:
        return run_args(
            self.scale, self.data_scale, self.logrows, self.decomp_bits, self.growth
        )


@dataclass(frozen=True)
class SetUpCircuit:
    """Files of one set-up circuit: its graph, settings, keys and key artefact,
    under the digest they are cached by, and the SRS they were made with."""

    directory: Path
    digest: str
    srs_path: Path

    @property
    def onnx(self) -> Path:
        return self.directory / "circuit.onnx"

    @property
    def settings(self) -> Path:
        return self.directory / "settings.json"

    @property
    def compiled(self) -> Path:
        return self.directory / "circuit.ezkl"

    @property
    def pk(self) -> Path:
        return self.directory / "pk.key"

    @property
    def vk(self) -> Path:
        return self.directory / "vk.key"

    @property
    def vka(self) -> Path:
        return self.directory / "vk.vka"

    def vka_words(self) -> list[bytes]:
        """The verification-key artefact as the bytes32 words the verifier takes."""
        return read_vka(self.vka)

    def vka_digest(self) -> bytes:
        """The artefact's digest, by which the task names the circuit on chain."""
        return vka_digest(self.vka_words())


@dataclass(frozen=True)
class CircuitArtifacts(SetUpCircuit):
    """Files of one set-up evaluation circuit."""

    layout: Layout

    @property
    def scale(self) -> int:
        """Fixed-point scale (bits) of the weights."""
        return self.layout.scale

    @property
    def logrows(self) -> int:
        return self.layout.logrows

    @property
    def num_weights(self) -> int:
        """The model's weights: the circuit's input, its first committed column."""
        settings = json.loads(self.settings.read_text())
        return int(settings["module_sizes"]["polycommit"][0])


def vka_digest(words: list[bytes]) -> bytes:
    """keccak256 of a key artefact's words, as the verifier and ZKPoT compute it."""
    from eth_utils import keccak

    return bytes(keccak(b"".join(words)))


def read_vka(path: Path) -> list[bytes]:
    """Parse an ezkl `.vka` file: an 8-byte little-endian word count, then 32-byte words."""
    raw = Path(path).read_bytes()
    if len(raw) < 8:
        raise ZKPoTValueError(f"{path} is not a verification-key artefact")
    n = int.from_bytes(raw[:8], "little")
    if len(raw) != 8 + 32 * n:
        raise ZKPoTValueError(f"{path} is not a verification-key artefact (bad length)")
    return [raw[8 + 32 * i : 40 + 32 * i] for i in range(n)]


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dev_srs(logrows: int, cache: Path | None = None) -> Path:
    """A locally generated SRS for `logrows`, cached. For development only."""
    path = (cache or cache_dir()) / "srs" / f"dev-k{logrows}.srs"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        os.close(fd)
        try:
            with long_step(f"generating a development SRS (2^{logrows})"):
                run_isolated(ezkl_ops.gen_srs, tmp, logrows)
            # Each generated SRS is another random one: if another process made
            # this one first, keep theirs (keys may already be built on it).
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    return path


def circuit_digest(onnx_path: Path, run_args: dict[str, object], srs_path: Path) -> str:
    """The cache key of a circuit set-up: the model graph, the run arguments, the SRS
    and ezkl's version. A key made from one SRS is never reused with another."""
    return hashlib.sha256(
        json.dumps(
            {
                "layout": _LAYOUT_VERSION,
                "ezkl": version("ezkl"),
                "onnx": _sha256_file(onnx_path),
                "run_args": run_args,
                "srs": _sha256_file(srs_path),
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()


def setup_circuit(
    onnx_path: Path,
    *,
    scale: int,
    data_scale: int,
    growth: Growth = DIGITS_MLP,
    srs: Path | None = None,
    cache: Path | None = None,
) -> CircuitArtifacts:
    """Set up the circuit in `onnx_path` (or reuse the cached set-up) and return its files.

    `srs` is a trusted SRS file (e.g. from a powers-of-tau ceremony); without it a
    development SRS is generated locally and a warning says so.
    """
    onnx_path = Path(onnx_path)
    if srs is not None and not Path(srs).is_file():
        raise ZKPoTFileNotFoundError(f"SRS file not found: {srs}")
    root = (cache or cache_dir()) / "circuits"
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=root, prefix=".build-"))
    try:
        shutil.copyfile(onnx_path, work / "circuit.onnx")
        layout = choose_layout(work, scale, data_scale, growth)
        logrows = layout.logrows
        if srs is None:
            warn(
                "using a locally generated SRS: fine for development, NOT for deployments. "
                "Pass a ceremony SRS with --srs PATH."
            )
            srs_path = dev_srs(logrows, cache)
        else:
            srs_path = Path(srs).resolve()
        digest = circuit_digest(onnx_path, layout.run_args(), srs_path)
        final = build_once(work, root, digest, srs_path, logrows)
        return CircuitArtifacts(final, digest, srs_path, layout)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def build_once(
    work: Path, root: Path, digest: str, srs_path: Path, logrows: int
) -> Path:
    """Set up the circuit whose graph and settings are in `work` into its cache
    directory under `root` (unless built before); return that directory."""
    final = root / digest[:24]
    if not (final / "DONE").exists():
        _build(work, srs_path, logrows)
        (work / "DONE").write_text(digest + "\n")
        install_build(work, final)
    return final


def compile_only(
    onnx_path: Path,
    directory: Path,
    *,
    scale: int,
    data_scale: int,
    growth: Growth = DIGITS_MLP,
) -> Path:
    """Compile the circuit without keys (enough for witnesses); return the compiled file."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(onnx_path, directory / "circuit.onnx")
    choose_layout(directory, scale, data_scale, growth)
    compiled = directory / "circuit.ezkl"
    run_isolated(
        ezkl_ops.compile_circuit,
        str(directory / "circuit.onnx"),
        str(compiled),
        str(directory / "settings.json"),
    )
    return compiled


def logrows_needed(settings: dict[str, Any]) -> int:
    """The smallest circuit size (log2 rows) that holds a circuit with these ezkl
    settings: its rows and its largest range-check table, plus blinding rows."""
    ranges = settings.get("required_range_checks") or []
    largest_table = max([hi - lo + 1 for lo, hi in ranges] or [1])
    needed = max(settings["num_rows"], largest_table) + _BLINDING_ROWS
    return max(math.ceil(math.log2(needed)), 10)


def choose_layout(
    work: Path, scale: int, data_scale: int, growth: Growth = DIGITS_MLP
) -> Layout:
    """The smallest circuit size (log2 rows) that holds the circuit in `work` and
    its range-check table, over the decomposition bases: a smaller base means a
    smaller table but more legs (rows) per comparison; ties go to fewer rows.
    Writes the layout's settings to `work/settings.json`."""
    onnx, settings_path = str(work / "circuit.onnx"), str(work / "settings.json")
    candidates = []
    for bits in DECOMP_BITS_CHOICES:
        settings = run_isolated(
            ezkl_ops.gen_settings,
            onnx,
            settings_path,
            run_args(scale, data_scale, 17, bits, growth),
        )
        candidates.append((logrows_needed(settings), settings["num_rows"], -bits))
    logrows, _, bits = min(candidates)
    layout = Layout(scale, data_scale, logrows, -bits, growth)
    run_isolated(ezkl_ops.gen_settings, onnx, settings_path, layout.run_args())
    canonicalise_settings(work / "settings.json")
    return layout


def canonicalise_settings(path: Path) -> None:
    """Sort the lookup and range-check lists of ezkl's settings. ezkl collects them
    in hash sets, so their order (and with it the circuit's layout and verifying
    key) changes from one run to the next; sorted, every machine that sets the
    circuit up from the same package gets the task's key."""
    settings = json.loads(path.read_text())
    for key in ("required_lookups", "required_range_checks"):
        settings[key] = sorted(settings.get(key, []), key=json.dumps)
    settings.pop("timestamp", None)
    path.write_text(json.dumps(settings))


def _build(work: Path, srs_path: Path, logrows: int) -> None:
    settings, compiled = str(work / "settings.json"), str(work / "circuit.ezkl")
    try:
        run_isolated(
            ezkl_ops.compile_circuit, str(work / "circuit.onnx"), compiled, settings
        )
        with long_step(f"circuit setup: proving and verifying keys (2^{logrows} rows)"):
            run_isolated(
                ezkl_ops.setup,
                compiled,
                str(work / "vk.key"),
                str(work / "pk.key"),
                str(srs_path),
            )
        run_isolated(
            ezkl_ops.create_vka,
            str(work / "vk.key"),
            settings,
            str(work / "vk.vka"),
            str(srs_path),
        )
    except Exception as exc:
        raise ToolchainError(f"circuit setup failed: {exc}") from exc


def generate_verifier(artifacts: CircuitArtifacts, sol_path: Path) -> Path:
    """Have ezkl generate the reusable Solidity verifier for a set-up circuit (the
    same code for every circuit: contracts/verifier/ holds it). Needs the Solidity
    compiler, which ezkl runs on it; the client library itself never does."""
    with long_step("generating the Solidity verifier"):
        run_isolated(
            ezkl_ops.create_verifier,
            str(artifacts.vk),
            str(artifacts.settings),
            str(sol_path),
            str(sol_path.with_suffix(".abi")),
            str(artifacts.srs_path),
        )
    return sol_path
