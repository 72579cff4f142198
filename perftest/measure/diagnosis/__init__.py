"""Why an endpoint is slow: extra in-process requests after the measured ones, never counted.

``--profile`` runs a few requests per endpoint under cProfile (``profile``); ``--explain``
captures one request's SQL with its parameters and reads PostgreSQL's plans of its costly
SELECT statements (``explain``). Both send through the in-process transport that measured the
endpoint, one request at a time, and hand back JSON-ready summaries that hold no parameter
value: the measuring core stores them with the endpoint's figures and nothing else.
"""
