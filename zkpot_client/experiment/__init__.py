"""The robustness and privacy experiment behind `zkpot experiment` (reports/)."""
