"""How the app builds its engine and finds its weights folder (imports core.engine lazily).

The factory runs in the inference thread, so torch loads there, after the window is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop.settings import StudioSettings


def weights_folder(settings: StudioSettings) -> Path:
    from core.weights import weights_dir

    return Path(weights_dir(settings.weights_folder or None))


def engine_factory_for(settings: StudioSettings) -> Callable[[], Any]:
    def build() -> Any:
        from core.engine import Engine

        engine = Engine(
            weights_dir=weights_folder(settings),
            device=settings.device,
            precision=settings.precision,
        )
        if settings.model_file:
            # the user's own checkpoint, checked by structure; a bad file fails here, named
            engine.use_model_file(Path(settings.model_file))
        return engine

    return build
