"""Loaded at interpreter start-up by ``driftguard run``: attach DriftGuardCallback to every Trainer.

The patch is applied lazily, when ``transformers.trainer`` is first imported, so processes that never
train (tokenizer workers, shells) pay nothing.
"""

import importlib.abc
import sys


class _PatchTrainerOnImport(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != "transformers.trainer":
            return None
        sys.meta_path.remove(self)
        import importlib.util

        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original_exec = loader.exec_module

        def exec_module(module):
            original_exec(module)
            from driftguard.launch import install

            install()

        loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _PatchTrainerOnImport())
