"""Maps the contract's top-level folders into the `evalhouse` namespace.

`ingest/` installs as `evalhouse.ingest` and `analysis/` as `evalhouse.analysis`, so no bare
`ingest` or `analysis` package lands in site-packages. Everything else lives in pyproject.toml.
"""

from setuptools import find_packages, setup

ROOTS = {"evalhouse": "evalhouse", "evalhouse.ingest": "ingest", "evalhouse.analysis": "analysis"}

packages = []
for name, folder in ROOTS.items():
    packages.append(name)
    packages += [f"{name}.{sub}" for sub in find_packages(folder)]

setup(packages=packages, package_dir=ROOTS)
