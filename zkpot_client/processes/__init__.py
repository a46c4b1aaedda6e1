"""The roles as long-running OS processes, and the simulation that starts them."""
