"""Entry point: ``python -m benchmarks [options]`` (see ``--help``)."""

from benchmarks.cli import main

raise SystemExit(main())
