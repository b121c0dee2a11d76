"""The keys of a run's metadata (`run.metadata`, one JSON object per run) and who writes each."""

INTENTS = 'intents'  # DocType → names a step is about to insert (the write-ahead intent: engine/run_store.py);
# a teardown request moves the never-confirmed ones to UNCONFIRMED (engine/services/deprovision.py)
UNCONFIRMED = 'unconfirmed_intents'  # DocType → names no succeeded step ever confirmed
CLAIMS = 'claims'  # the dispatcher's claims of the run, newest last (engine/dispatcher.py)
RETRIED_BY = 'retried_by'  # who last retried the run or one of its steps (engine/services/runs.py)
REPAIR = 'repair'  # True: a Repair asked for this provisioning run (engine/services/runs.py request_provision)
