"""About CodeFormer Studio, with the licences of the app and of the model files it uses."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

ABOUT_HTML = """
<h2>CodeFormer Studio {version}</h2>
<p>Restores faces in old, blurry and damaged photos with CodeFormer
(Zhou, Chan, Li and Loy, <i>Towards Robust Blind Face Restoration with Codebook Lookup
Transformer</i>, NeurIPS 2022).</p>
<p>Running on: {device}<br>Model: {model}</p>
<h3>Licences</h3>
<table cellspacing="6">
<tr><td><b>CodeFormer Studio</b> (this application)</td><td>MIT License</td></tr>
<tr><td><b>CodeFormer weights</b> (codeformer.pth, colorization, inpainting)</td>
<td>S-Lab License 1.0: <b>non-commercial use only</b> —
<a href="https://github.com/sczhou/CodeFormer/blob/master/LICENSE">licence text</a></td></tr>
<tr><td><b>YuNet</b> face detector (built in; Wu, Peng and Yu, 2023)</td>
<td>Apache License 2.0, copyright OpenMMLab and Shiqi Yu (text in resources/models/yunet)</td></tr>
<tr><td><b>facexlib</b> (RetinaFace detection, face parsing)</td><td>MIT License</td></tr>
<tr><td><b>OpenCV</b> (runs YuNet, image resampling)</td><td>Apache License 2.0</td></tr>
<tr><td><b>Real-ESRGAN</b> (background upsampler)</td><td>BSD 3-Clause License</td></tr>
<tr><td><b>Qt for Python (PySide6)</b></td><td>LGPL v3</td></tr>
<tr><td><b>PyTorch</b></td><td>BSD-style licence</td></tr>
<tr><td><b>QtAwesome</b>, Material Design Icons</td><td>MIT License; Apache 2.0</td></tr>
</table>
<p>The sample photo is a worn-looking copy of a public-domain US Navy portrait of
Grace Hopper.</p>
"""


class AboutDialog(QDialog):
    def __init__(
        self, version: str, device: str, model: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("About CodeFormer Studio")
        self.resize(620, 520)
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self.text.setHtml(
            ABOUT_HTML.format(
                version=version, device=device or "not started yet", model=model or "official"
            )
        )
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
