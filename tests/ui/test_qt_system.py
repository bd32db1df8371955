"""What a fresh machine needs to run Qt, and Qt speaking French."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QDialogButtonBox

from app.ui.translations import install_french, translation_dirs
from tools import qt_system_libs as libs

ROOT = Path(__file__).resolve().parents[2]
LDD = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibxcb-icccm.so.4 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibweird.so.9 => not found
"""


def test_ldd_not_found_lines_become_sonames() -> None:
    assert libs.not_found(LDD) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libweird.so.9"]


def test_missing_libraries_map_to_debian_packages_and_a_french_message() -> None:
    missing = [libs.KNOWN["libxcb-cursor.so.0"], libs.KNOWN["libglib-2.0.so.0"]]
    missing.append(libs.Lib("libweird.so.9", (), ""))
    assert libs.debian_packages(missing) == ["libxcb-cursor0", "libglib2.0-0t64"]
    # Debian 12 knows only the older name of glib's package: the first one apt knows wins.
    assert libs.debian_packages(missing, lambda name: name != "libglib2.0-0t64") == [
        "libxcb-cursor0",
        "libglib2.0-0",
    ]
    text = libs.advice(missing)
    assert "il manque des bibliothèques système de Qt" in text
    assert "sudo apt-get install libxcb-cursor0 libglib2.0-0t64" in text
    assert "sudo dnf install glib2 xcb-util-cursor" in text
    assert "libweird.so.9" in text


def test_offscreen_needs_no_xcb_library() -> None:
    assert libs.KNOWN["libxcb-cursor.so.0"] in libs.wanted(None)
    assert libs.KNOWN["libxcb-cursor.so.0"] in libs.wanted("xcb")
    assert libs.KNOWN["libxcb-cursor.so.0"] not in libs.wanted("offscreen")
    assert libs.KNOWN["libEGL.so.1"] in libs.wanted("offscreen")


def test_the_check_passes_here_offscreen() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "qt_system_libs.py")],
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_qt_own_words_are_french(qapp) -> None:
    assert any((folder / "qtbase_fr.qm").exists() for folder in translation_dirs())
    translators = install_french(qapp)
    try:
        assert translators
        box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Cancel | QDialogButtonBox.StandardButton.Open
        )
        assert sorted(b.text() for b in box.buttons()) == ["Annuler", "Ouvrir"]
        assert QCoreApplication.translate("QFileDialog", "Open") == "Ouvrir"  # file dialogs
    finally:
        for translator in translators:
            qapp.removeTranslator(translator)
