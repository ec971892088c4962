"""Packages of kg. The rest of the configuration is in setup.cfg.

The ontology and the named queries live at the top of the repository (ontology/, queries/) and
are installed inside the package as kg.ontology_files and kg.query_files, where
importlib.resources finds them (kg/resources.py).
"""
from setuptools import find_packages, setup

setup(packages=find_packages(include=["kg", "kg.*"]) + ["kg.ontology_files", "kg.query_files"],
      package_dir={"kg.ontology_files": "ontology", "kg.query_files": "queries"})
