"""``python -m benchmarks [--quick] [--only NAME ...]``"""

from benchmarks.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
