"""mlflow plugin: ``MLFLOW_TRACKING_URI=runstash://host:port`` sends the stock client over gRPC.

Registered through mlflow's entry points (``mlflow.tracking_store`` for the ``runstash`` scheme,
``mlflow.artifact_repository`` for ``mlflow-artifacts``), so importing this package is never
needed by hand. mlflow is not a dependency of the client package: install ``runstash[mlflow]``.
"""
