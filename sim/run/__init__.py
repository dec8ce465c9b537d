"""Run: executing replicates and writing result folders.

``runner`` (jobs, ``SeedSequence`` seeds, process pools and Dask; results identical with any
number of workers), ``execution`` (:class:`~sim.run.execution.Execution`: workers, scheduler,
progress bar and chunking as one object every experiment takes) and ``output`` (result folders
written to a temporary folder and renamed at the end, metadata). It imports ``sim.core`` and
``sim.inputs``: a new output file or execution back-end goes here.
"""
