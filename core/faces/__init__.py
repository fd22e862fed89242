"""Faces in whole photos: detect, align, mask, paste back, and upscale the background.

Pure functions on numpy arrays (H x W x 3 uint8 RGB unless a docstring says otherwise) plus a few
small classes that wrap helper networks (YuNet, RetinaFace, ParseNet, Real-ESRGAN). No Qt.
Importing this package does not import torch: the classes that need it import it when they are
built.

Modules: `detection` (faces and their landmarks, RetinaFace), `yunet` (the detector built into
the app), `detectors` (the detectors on offer, by name, and what "auto" picks), `alignment` (the
similarity transform to the 512 template), `masks` (soft paste masks), `paste` (blend a face
back into a photo, in place, only inside the face's region), `upsample` (background upscaling),
`helper_weights` (finding and safely loading the helper models' files).
"""
