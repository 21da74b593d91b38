-- The texts that hold an answer to read: every reply, and executions that ended normally.
select aid, kind, mode, text
from arm_texts
where coalesce(exec_status, 'ok') = 'ok'
