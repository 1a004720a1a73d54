"""The wheel carries the top-level `templates/` and `procedures/` folders as `marketplace/_shipped/`, so an
installed marketplace needs no checkout (the folders stay at the top of the repository; nothing is copied
into git). An editable install reads them from the checkout instead (marketplace/settings.py: resource_dir)."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ("templates", "procedures")
SKIPPED = ("__pycache__", ".pyc", ".DS_Store", "~")


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in SHIPPED:
            for source in sorted(Path(name).rglob("*")):
                if source.is_dir() or any(part.endswith(SKIPPED) for part in source.parts):
                    continue
                target = Path(self.build_lib, "marketplace", "_shipped", source)
                self.mkpath(str(target.parent))
                self.copy_file(str(source), str(target))


setup(cmdclass={"build_py": BuildWithResources})
