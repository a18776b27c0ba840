"""Moving a tracking server's data: `runstash import` and `runstash export`.

A *source* reads (an MLflow or runstash server over REST, or an export directory), a *target*
writes (a runstash server over REST, or an export directory); :mod:`.copier` moves everything
from one to the other in dependency order, recording each finished unit in a state file so a
crashed copy resumes where it stopped.
"""
