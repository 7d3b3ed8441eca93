"""The hub as Federation v2 subgraphs: each department's part of the graph at its own endpoint."""
