"""The evaluation circuit: export, keys, commitments and proofs (ezkl)."""
