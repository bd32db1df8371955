"""Qt's own texts in French: « Annuler » rather than « Cancel », French file dialogs,
context menus and message boxes. Comptoir's texts are French in the code itself."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import PySide6
from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger(__name__)
CATALOGS = ("qtbase_fr",)


def translation_dirs() -> list[Path]:
    """Where Qt's .qm files are: Qt's own answer first, then where PySide6 keeps them
    (in a checkout's venv as in the bundled application)."""
    dirs = [Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))]
    dirs.append(Path(PySide6.__file__).resolve().parent / "Qt" / "translations")
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        dirs.append(Path(bundle) / "PySide6" / "Qt" / "translations")
    return dirs


def install_french(app: QCoreApplication) -> list[QTranslator]:
    """Load Qt's French catalogs into ``app``; the translators are kept on the app (Qt
    forgets a translator whose Python object is collected). A missing catalog is logged,
    never fatal: the app then shows Qt's few English words."""
    QLocale.setDefault(QLocale(QLocale.Language.French, QLocale.Country.France))
    installed: list[QTranslator] = []
    for catalog in CATALOGS:
        translator = QTranslator(app)
        if any(translator.load(catalog, str(folder)) for folder in translation_dirs()):
            app.installTranslator(translator)
            installed.append(translator)
        else:
            log.warning("Qt translation %s not found in %s", catalog, translation_dirs())
    app.setProperty("comptoirTranslators", len(installed))
    return installed
