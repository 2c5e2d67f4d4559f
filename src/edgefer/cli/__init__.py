"""The `edgefer` command: one module per mode (`edgefer <mode> ...`), each with `register(subparsers)`."""
