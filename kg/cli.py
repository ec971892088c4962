"""The `kg` command: a thin layer over kg.api."""
from __future__ import annotations

import json
import sys

import click

from . import api


def _fail(message: str) -> None:
    raise click.ClickException(message)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kg")
def main():
    """法治图谱: a knowledge graph of 法治政府建设 reports."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="json", show_default=True)
def extract(paths, fmt):
    """Extract structure, locality and facts from report files or directories."""
    records, errors = [], 0
    for item in api.extract(paths):
        if isinstance(item, api.Failure):
            errors += 1
            click.echo(f"error: {item}", err=True)
            continue
        records.append(item)
        if fmt == "table":
            click.echo(api.record_summary(item))
    if fmt == "json":
        json.dump(records, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    if errors:
        click.echo(f"{errors} file(s) could not be read; {len(records)} extracted", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
