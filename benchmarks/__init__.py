"""``observatory-etl bench``: the load measured side by side with its ceiling and its peers, in one run.

One synthetic landing hour is written, decoded and normalized (beside it, a second hour of many small files,
decoded in rounds alternating with the first hour's, whose decode rate is compared with this one's); then the
same rows are loaded by:

* the ceiling: server-side ``COPY … FROM '/file' (FORMAT binary)`` into an UNLOGGED table without indexes;
* the seeds' methods: INSERT row by row and multi-row INSERT batches (psycopg2);
* ADBC COPY (``adbc_ingest``) at the same batch sizes, and the pipeline's own way (50,000-row batches into
  a TEMP staging table);
* dlt's PostgreSQL destination (merge on the final tables' keys, every table of the hour);
* the whole pipeline (:func:`observatory_etl.pipeline.hour.load_hour`), then a rerun of the same hour;
* and the pipeline's peak RSS at two partition sizes, each in a fresh subprocess.

The decodes, dlt and the pipeline are measured ``--rounds`` times each (default 3) and the fastest round counts,
as the decode issue measured its figures (best of 3): the machine's speed drifts by up to 1.4× between
minutes, and noise only ever slows a round down. Every round's seconds are listed beside the fastest.

Modules: :mod:`.methods` (one function per method), :mod:`.run` (orchestration and options),
:mod:`.rss` (the subprocess), :mod:`.report` (markdown, chart, JSON).
"""
