"""Chain access: compiling and deploying the contracts, transactions, events."""
