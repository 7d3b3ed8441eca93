"""One module per ``hub`` command; each adds its parser with ``register(subparsers)``."""
