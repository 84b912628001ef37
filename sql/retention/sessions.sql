-- Sessions last seen before the cutoff $1.
DELETE FROM sessions WHERE last_seen < $1
