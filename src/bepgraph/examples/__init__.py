"""The example facts bundle: a deterministic, realistic JNL Series Trust history.

``python -m bepgraph.examples.generate --out DIR`` writes a complete facts
bundle for the plan from its adoption (2002-05-16) to mid-2005, with a
handful of deliberate breaches listed in the bundle's README. The series
and sub-advisers are read from the filing at run time.

The package does not import its submodules, so ``python -m`` runs
``generate`` without a double-import warning.
"""

__all__: list[str] = []
