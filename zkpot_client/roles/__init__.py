"""The protocol's roles. Each talks to the others only through the chain (a
ZKPoTContract) and the content store, so each can run in its own process."""
