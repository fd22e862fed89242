"""CodeFormer Studio's core: the network, the face pipeline and the weights. No Qt in here.

Importing `core` is cheap: torch loads only when a model or pipeline function is first used.

    import core
    model = core.load_model("codeformer.pth", device="auto", precision="auto")
    encoded = model.encode(faces)          # B x 3 x 512 x 512 float RGB in [-1, 1]
    restored = model.decode(encoded, 0.7)  # any fidelity, reusing the encoding
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.model import CodeFormer, EncodedFaces, load_model

__all__ = ["CodeFormer", "EncodedFaces", "load_model"]

VERSION = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in ("CodeFormer", "EncodedFaces", "load_model"):
        from core import model

        return getattr(model, name)
    raise AttributeError(f"module 'core' has no attribute {name!r}")
