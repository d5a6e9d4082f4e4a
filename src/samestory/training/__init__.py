"""Training: what fits the shipped models, never imported at run time.

Needs the ``train`` extra (``pip install 'samestory[train]'``: PyTorch, and
onnxmltools to compile trees). The run-time package (everything else under
``samestory``) imports nothing from here, except ``embed.load_encoder`` for a
``torch-e5`` spec, on demand.

- ``scorer``: pair features, grouped cross-validation and fitting of the ``PairScorer``;
- ``linker``: candidate pairs from labelled story files and fitting of the ``StoryLinker``;
- ``torch_e5``, ``torch_nn``: multilingual-e5-small in PyTorch (fine-tuning, int8 calibration);
- ``lora``: trainable low-rank adapters, saved in the format ``embed.lora`` reads.

The scripts that run them (``make train``, ``make train-linker``) are in the
repository's ``training/`` folder, with the log of every figure (``training/LOG.md``).
"""
