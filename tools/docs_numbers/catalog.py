"""Every generated block, by name, gathered from the document modules (a name is declared once,
in the document it belongs to, even where another document shows it too)."""

from tools.docs_numbers.documents import (benchmarks, bits, loss_scaling, peers, performance,
                                          readme, reproduction)

DOCUMENTS = (readme, benchmarks, bits, loss_scaling, peers, performance, reproduction)


def gather(documents=DOCUMENTS):
    """{block name: engine.Block} of ``documents``' BLOCKS; ValueError naming both modules when two
    declare one name."""
    found, owner = {}, {}
    for doc in documents:
        for block in doc.BLOCKS:
            if block.name in found:
                raise ValueError(f"block {block.name!r} is declared by {owner[block.name]} and "
                                 f"{doc.__name__}")
            found[block.name], owner[block.name] = block, doc.__name__
    return found


BLOCKS = gather()
