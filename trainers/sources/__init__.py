"""The dataset sources, by spec prefix: adding one is a module with a `SOURCE` and a line here."""

from __future__ import annotations

from trainers.sources import fashion_mnist, folder, tfds
from trainers.sources.source import Source

SOURCES: dict[str, Source] = {source.kind: source for source in (fashion_mnist.SOURCE, tfds.SOURCE, folder.SOURCE)}

#: How the specs are written: briefly ("'fashion_mnist', 'tfds:NAME', 'folder:PATH'"), and with what each names.
SPECS = ", ".join(repr(source.spec) for source in SOURCES.values())
SPEC_FORMS = ", ".join(source.form for source in list(SOURCES.values())[:-1]) + " or " + list(SOURCES.values())[-1].form
