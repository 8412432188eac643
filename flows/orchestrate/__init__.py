"""What the Prefect flow (flows/pipeline.py) runs the stages with: batches and their keys, progress and the build summary, settings, options."""
