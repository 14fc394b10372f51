-- Every task created updates its project's row (last_task_number). Each update leaves the old
-- version behind until the page is pruned, and when the page has no room the new version goes to
-- another page with an entry in each of the table's five indexes: the table and its indexes then
-- grow with every create until a vacuum (which a server with autovacuum off, and the embedded
-- database between its housekeeping runs, do not do). Pages kept four-fifths empty leave room for
-- those versions on the row's own page (heap-only tuples, no index entries).
alter table projects set (fillfactor = 20);
