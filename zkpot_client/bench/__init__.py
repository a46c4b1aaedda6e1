"""`zkpot bench`: what a proof costs.

- `task`: one task configuration end to end on the embedded chain (set-up,
  proofs, verification gas);
- `levers`: the prover's levers, each changed alone on the demo's circuit;
- `growth`: proof time, memory and key size against evaluation samples and
  model size, as a table and a plot.
"""

from .task import machine, run_bench

__all__ = ["machine", "run_bench"]
