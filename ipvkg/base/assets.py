"""Where the shipped assets are: ``ontology/``, ``shapes/``, ``queries/``, ``docs/`` (the querying guide),
``data/TEMPLATE.yaml`` (the record template) and ``ipvkg/page/`` (the interactive pages' style and scripts, which
live inside the package in the checkout too).

The repository keeps them at its top level (the layout users asked for); a built wheel carries them inside the
package (``ipvkg/ontology`` ...; see ``[tool.setuptools.package-dir]`` in ``pyproject.toml``). ``docs/`` ships as
``ipvkg/guide``, because ``ipvkg/docs.py`` already holds the name, and the record template as
``ipvkg/record_template/TEMPLATE.yaml``. Both are found through
:mod:`importlib.resources`, so ``pip install .`` works outside the checkout.

>>> (asset_dir("ontology") / "ipvkg.ttl").is_file()
True
>>> sorted(p.name for p in asset_dir("shapes").glob("*.ttl"))[:1]
['ipvkg-shapes.ttl']
>>> (asset_dir("docs") / "querying.md").is_file()
True
>>> (asset_dir("template") / "TEMPLATE.yaml").is_file()  # the record template, data/TEMPLATE.yaml in a checkout
True
>>> (asset_dir("page") / "gapmap.js").is_file()
True
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from .errors import IpvkgError

ASSETS = ("ontology", "shapes", "queries", "docs", "template", "page")
INSTALLED_NAME = {"docs": "guide", "template": "record_template"}  # the folder's name inside an installed package
CHECKOUT_NAME = {"template": "data"}  # the folder's name in the checkout: only data/TEMPLATE.yaml ships

# a file-system installation; zipped imports would need as_file(), which nothing here asks for
_PACKAGE = Path(str(files("ipvkg")))


def asset_dir(name: str) -> Path:
    """The folder holding the shipped asset ``name``.

    :param name: one of :data:`ASSETS`.
    :raises IpvkgError: if neither the installed package nor the checkout holds it (a broken installation).
    """
    if name not in ASSETS:
        raise ValueError(f"unknown asset folder {name!r}; one of {', '.join(ASSETS)}")
    # the installed wheel's copy, then the checkout's top level
    for place in (_PACKAGE / INSTALLED_NAME.get(name, name), _PACKAGE.parent / CHECKOUT_NAME.get(name, name)):
        if place.is_dir():
            return place
    raise IpvkgError(
        f"the installed ipvkg has no {name}/ folder (looked in {_PACKAGE}); reinstall it with "
        "`pip install .` from a checkout or a wheel built from one"
    )
