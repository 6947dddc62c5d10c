"""One module per document: each declares its generated blocks (``BLOCKS``, engine.Block) with
the sentence templates they fill and the functions that compute their numbers."""
