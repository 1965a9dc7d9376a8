"""What a user writes to describe a system: components, their ports, nodes, the system
itself, and the port types. The public names are exported by ``like_keras``."""
