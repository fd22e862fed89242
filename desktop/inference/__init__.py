"""The window's inference layer: one road from a request to a response.

- `requests`: the values the window and the worker exchange (requests, and responses that carry
  the request they answer). No torch.
- `handlers`: run one request on an engine. No Qt.
- `slider_fill`: what an idle worker computes ahead for the slider (render and face caches).
- `export_batches`: progress and cancellation of export batches.
- `queue`: the thread that owns the engine, its priorities, cancellation and signals.
"""
