\set d random(0, 358)
SELECT start, "end", free FROM availability WHERE resource_id = 'avail' AND start >= 1767225600000 + :d * 86400000 AND "end" <= 1767225600000 + :d * 86400000 + 604800000;
