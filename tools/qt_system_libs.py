"""Before `make run`: the system libraries Qt needs on Linux (PySide6's wheels carry Qt, not
the X11/xcb, OpenGL and font libraries of the system). Missing ones are installed with apt
on Debian and Ubuntu; elsewhere the French message says exactly what to install.

Without this, a fresh machine stops with Qt's generic « could not load the Qt platform
plugin "xcb" » message. `python tools/qt_system_libs.py --install` (the Makefile) or
without --install to only check; exit 0 when everything is there.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path


@dataclass(frozen=True)
class Lib:
    soname: str
    debian: tuple[str, ...]  # package names, newest first (Debian 13 renamed a few: t64)
    fedora: str


# What Qt's widgets need whatever the display (also offscreen, as in the tests).
CORE = (
    Lib("libEGL.so.1", ("libegl1",), "libglvnd-egl"),
    Lib("libGL.so.1", ("libgl1",), "libglvnd-glx"),
    Lib("libOpenGL.so.0", ("libopengl0",), "libglvnd-opengl"),
    Lib("libfontconfig.so.1", ("libfontconfig1",), "fontconfig"),
    Lib("libfreetype.so.6", ("libfreetype6",), "freetype"),
    Lib("libxkbcommon.so.0", ("libxkbcommon0",), "libxkbcommon"),
    Lib("libglib-2.0.so.0", ("libglib2.0-0t64", "libglib2.0-0"), "glib2"),
    Lib("libdbus-1.so.3", ("libdbus-1-3",), "dbus-libs"),
)
# What the xcb platform plugin (an X11 desktop) needs besides. libxcb-cursor is loaded
# by Qt at run time (6.5 and later), so the linker's view (ldd) does not show it.
XCB = (
    Lib("libxcb.so.1", ("libxcb1",), "libxcb"),
    Lib("libX11.so.6", ("libx11-6",), "libX11"),
    Lib("libX11-xcb.so.1", ("libx11-xcb1",), "libX11-xcb"),
    Lib("libxcb-cursor.so.0", ("libxcb-cursor0",), "xcb-util-cursor"),
    Lib("libxcb-icccm.so.4", ("libxcb-icccm4",), "xcb-util-wm"),
    Lib("libxcb-image.so.0", ("libxcb-image0",), "xcb-util-image"),
    Lib("libxcb-keysyms.so.1", ("libxcb-keysyms1",), "xcb-util-keysyms"),
    Lib("libxcb-randr.so.0", ("libxcb-randr0",), "libxcb"),
    Lib("libxcb-render-util.so.0", ("libxcb-render-util0",), "xcb-util-renderutil"),
    Lib("libxcb-render.so.0", ("libxcb-render0",), "libxcb"),
    Lib("libxcb-shape.so.0", ("libxcb-shape0",), "libxcb"),
    Lib("libxcb-shm.so.0", ("libxcb-shm0",), "libxcb"),
    Lib("libxcb-sync.so.1", ("libxcb-sync1",), "libxcb"),
    Lib("libxcb-xfixes.so.0", ("libxcb-xfixes0",), "libxcb"),
    Lib("libxcb-xkb.so.1", ("libxcb-xkb1",), "libxcb"),
    Lib("libxcb-util.so.1", ("libxcb-util1",), "xcb-util"),
    Lib("libxkbcommon-x11.so.0", ("libxkbcommon-x11-0",), "libxkbcommon-x11"),
    Lib("libSM.so.6", ("libsm6",), "libSM"),
    Lib("libICE.so.6", ("libice6",), "libICE"),
)
KNOWN = {lib.soname: lib for lib in (*CORE, *XCB)}


def wanted(platform: str | None) -> tuple[Lib, ...]:
    """The libraries for QT_QPA_PLATFORM ``platform`` (None: Qt's default, xcb on X11)."""
    name = (platform or "xcb").split(":")[0]
    return (*CORE, *XCB) if name == "xcb" else CORE


def loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def not_found(ldd_output: str) -> list[str]:
    """The sonames ldd reports as « => not found »."""
    missing = []
    for line in ldd_output.splitlines():
        name, _, rest = line.strip().partition(" => ")
        if rest.strip() == "not found" and name not in missing:
            missing.append(name)
    return missing


def qt_binaries(platform: str | None) -> list[Path]:
    spec = find_spec("PySide6")
    if spec is None or spec.origin is None:
        return []
    qt = Path(spec.origin).parent / "Qt"
    found = [qt / "lib" / "libQt6Gui.so.6", qt / "lib" / "libQt6Widgets.so.6"]
    if (platform or "xcb").split(":")[0] == "xcb":
        found += [qt / "plugins" / "platforms" / "libqxcb.so", qt / "lib" / "libQt6XcbQpa.so.6"]
    return [path for path in found if path.exists()]


def missing_libs(platform: str | None) -> list[Lib]:
    missing = [lib for lib in wanted(platform) if not loads(lib.soname)]
    if shutil.which("ldd"):
        for binary in qt_binaries(platform):
            done = subprocess.run(["ldd", str(binary)], capture_output=True, text=True)
            for soname in not_found(done.stdout):
                lib = KNOWN.get(soname, Lib(soname, (), ""))
                if lib not in missing:
                    missing.append(lib)
    return missing


def debian_packages(missing: list[Lib], known: Callable[[str], bool] | None = None) -> list[str]:
    """One package per library: the first name apt knows (``known``), without repeats."""
    packages: list[str] = []
    for lib in missing:
        names = [name for name in lib.debian if known is None or known(name)] or list(lib.debian)
        if names and names[0] not in packages:
            packages.append(names[0])
    return packages


def advice(missing: list[Lib]) -> str:
    """The French message for a system where this script cannot install anything."""
    names = ", ".join(lib.soname for lib in missing)
    debian = " ".join(debian_packages(missing))
    fedora = " ".join(sorted({lib.fedora for lib in missing if lib.fedora}))
    unknown = [lib.soname for lib in missing if not lib.debian]
    lines = [
        f"Comptoir ne peut pas démarrer : il manque des bibliothèques système de Qt ({names}).",
        f"Debian ou Ubuntu : sudo apt-get install {debian}" if debian else "",
        f"Fedora : sudo dnf install {fedora}" if fedora else "",
        "Ailleurs : installez les paquets de votre système qui fournissent ces fichiers."
        + (f" (À trouver aussi : {', '.join(unknown)}.)" if unknown else ""),
    ]
    return "\n".join(line for line in lines if line)


def _apt_knows(name: str) -> bool:
    return (
        subprocess.run(["apt-cache", "show", name], capture_output=True, text=True).returncode == 0
    )


def install_with_apt(missing: list[Lib]) -> bool:
    if not (Path("/etc/debian_version").exists() and shutil.which("apt-get")):
        return False
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    if sudo and not shutil.which("sudo"):
        return False
    subprocess.run([*sudo, "apt-get", "update", "-q"], check=False)
    packages = debian_packages(missing, _apt_knows)
    print(f"Installation des bibliothèques de Qt : {' '.join(packages)}", file=sys.stderr)
    done = subprocess.run(
        [*sudo, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q",
         "--no-install-recommends", *packages],
        check=False,
    )  # fmt: skip
    return done.returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Bibliothèques système dont Qt a besoin.")
    parser.add_argument("--install", action="store_true", help="installer avec apt (Debian)")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        return 0  # Windows and macOS: Qt's wheels carry everything
    platform = os.environ.get("QT_QPA_PLATFORM")
    missing = missing_libs(platform)
    if missing and args.install and install_with_apt(missing):
        missing = missing_libs(platform)
    if missing:
        print(advice(missing), file=sys.stderr)
        return 1
    if platform is None and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print(
            "Aucun écran graphique (ni DISPLAY ni WAYLAND_DISPLAY) : lancez Comptoir depuis "
            "une session graphique, ou QT_QPA_PLATFORM=offscreen pour un essai sans écran.",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
