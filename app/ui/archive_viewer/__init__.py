"""The Archives screen: the journal or an archive file, browsed, verified and exported."""

from app.ui.archive_viewer.viewer import ArchiveViewer

__all__ = ["ArchiveViewer"]
