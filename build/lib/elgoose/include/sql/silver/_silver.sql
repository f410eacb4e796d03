{#-
  Macros shared by every silver table file. One silver file runs as one transaction:

    begin(method)          lock the endpoint against concurrent bronze/silver work, optionally
                           re-mark its current bronze versions unprocessed (force_reprocess), and
                           collect the newest unprocessed version of each record into _unprocessed
                           (ids and keys only: the payloads stay in bronze, read once per row)
    typed(method, columns) build _typed: every column of the table, typed from the newest unprocessed
                           records; the record keys read are the r.<key> the expressions name
    upsert(method, table, key, columns, checks)
                           quarantine what cannot be typed, upsert the rest without rewriting
                           unchanged rows, count inserted/updated/unchanged/rejected
    apply_deletions(...)   remove rows that the latest complete pull no longer serves (refusing a
                           mass deletion), log them, and forget their bronze version
    finish(method)         mark the bronze rows processed and return the counts as one JSON row

  A table derived from other silver tables (people, albums) builds its rows into a temporary table and
  uses two macros instead:
    begin_derived(table)   lock the table against a concurrent build, and start the counts
    sync_derived(table, rows, key, columns)
                           bring silver.<table> to exactly the rows of <rows>: insert the new keys, rewrite
                           only the changed rows (row_hash over columns), delete and log the keys that are
                           gone; return the counts as one JSON row

  A table file states its columns ONCE, as a list of (column, expression) in the table's column order:
    (name, expression)              typed from the record: the expression reads record keys as r.<key>
                                    (text; V004's text_to_* helpers type them) and the bronze row as b
    (name, expression, 'derived')   computed from the other typed columns, by name
    (name, expression, 'check')     typed from the record for the quarantine checks only, not stored
  typed() and upsert() take that list; the filters record_keys and stored_columns (elgoose.sql) read it.

  Values reach the SQL only as bind parameters: %(run_id)s, %(force_reprocess)s,
  %(max_delete_fraction)s, %(min_rows_for_delete_guard)s. Table and column names are fixed here.

  Performance (bench/README.md): JIT is off for these transactions (compiling the wide typing
  expressions costs more than it saves: 8 s of 12 s on 85k setlist rows); _typed holds typed columns
  only, never the jsonb payload (a reject's payload is read back from bronze by id).
-#}

{% macro row_hash(columns) -%}
{#- A row's fingerprint for change detection: the columns' own hash functions, no conversion to text (md5 of
    the row as text cost 0.29 s of 85k setlist rows, this 0.10 s). Rows written before it carry md5 text
    that no new hash equals: each is rewritten once, the next time its record is processed (people and
    albums, compared whole every run: on the first run after the change). -#}
hash_record_extended(row({{ columns | join(', ') }}), 0)::text
{%- endmacro %}


{% macro processed_through() -%}
{#- the newest processed bronze id: silver's watermark, read once by begin() -#}
current_setting('elgoose.processed_through')::bigint
{%- endmacro %}


{% macro begin(method) -%}
set local jit = off;

set local work_mem = '64MB';

select pg_advisory_xact_lock(hashtextextended('elgoose:bronze:{{ method }}', 0));

create temporary table _counts (metric text primary key, n bigint not null) on commit drop;

update raw_data.{{ method }} b
   set is_processed = false, processed_at = null
  from raw_data.current_versions cv
 where %(force_reprocess)s
   and cv.method = '{{ method }}'
   and b.id = cv.bronze_id
   and b.is_processed;

-- Bronze only appends (ids ascend) and silver marks every row it reads, so the unprocessed rows are the
-- ones above the newest processed row: silver's watermark (V009, kept by finish()), or for a method without
-- one, found by scanning back through the primary key (no index on is_processed: its marking is then a HOT
-- update). force_reprocess re-marks older rows above: it reads them all. finish() marks the same rows.
select set_config('elgoose.processed_through',
                  coalesce((select w.processed_through from raw_data.silver_watermarks w
                             where w.method = '{{ method }}'),
                           (select coalesce(max(id), 0) from raw_data.{{ method }} where is_processed))::text,
                  true);

create temporary table _unprocessed on commit drop as
select distinct on (coalesce(external_id, 'hash:' || content_hash))
       id as bronze_id, external_id, content_hash
  from raw_data.{{ method }}
 where not is_processed
   and (id > {{ processed_through() }} or %(force_reprocess)s)
 order by coalesce(external_id, 'hash:' || content_hash), id desc;

analyze _unprocessed;
{%- endmacro %}


{% macro typed(method, columns) -%}
{#- Each record key the expressions read is extracted once per row as text (jsonb_to_record): r.<key>.
    The unprocessed bronze rows are read here, not through _unprocessed: a temporary table is read by the
    leader process only, and a large batch types its rows in parallel workers (1.2 s to 0.75 s for 85k
    setlist rows on two cores). The semi-join keeps the newest version of each record, as before.
    The planner prices jsonb_to_record and the typing at next to nothing, so it would never start workers
    for them: for this statement, starting workers and passing rows is priced low. -#}
set local parallel_setup_cost = 10;

set local parallel_tuple_cost = 0.001;

create temporary table _typed on commit drop as
with from_record as (
    select b.id as bronze_id,
           b.external_id
           {%- for name, expression in columns | from_record %},
           {{ expression }} as {{ name }}
           {%- endfor %}
      from raw_data.{{ method }} b
     cross join lateral jsonb_to_record(b.data)
           as r({% for k in columns | record_keys %}"{{ k }}" text{% if not loop.last %}, {% endif %}{% endfor %})
     where not b.is_processed
       and (b.id > {{ processed_through() }} or %(force_reprocess)s)
    offset 0  -- typed below the join with _unprocessed, so that the workers type the rows
),
newest as (
    select from_record.* from from_record where bronze_id in (select bronze_id from _unprocessed)
)
select newest.*
       {%- for name, expression in columns | derived %},
       {{ expression }} as {{ name }}
       {%- endfor %}
  from newest;

set local parallel_setup_cost to default;

set local parallel_tuple_cost to default
{%- endmacro %}


{% macro upsert(method, table, key, column_list, checks) -%}
{#- column_list: the file's columns (see the top); checks: (condition that makes the record unusable, reason) -#}
{%- set columns = column_list | stored_columns -%}
insert into silver.rejects (source_table, bronze_id, external_id, reason, payload, run_id)
select '{{ method }}', bronze_id, external_id, reject_reason,
       (select b.data from raw_data.{{ method }} b where b.id = checked.bronze_id), %(run_id)s
  from (
        select bronze_id,
               external_id,
               case
               {%- for condition, reason in checks %}
                   when {{ condition }} then '{{ reason }}'
               {%- endfor %}
               end as reject_reason
          from _typed
       ) checked
 where reject_reason is not null
on conflict (source_table, bronze_id) do nothing;

insert into _counts select 'rejected', count(*) from _typed where {% for condition, _ in checks %}{{ condition }}{% if not loop.last %} or {% endif %}{% endfor %};

with usable as (
    select distinct on ({{ key | join(', ') }})
           {{ columns | join(', ') }},
           {{ row_hash(columns) }} as row_hash,
           bronze_id
      from _typed
     where not ({% for condition, _ in checks %}{{ condition }}{% if not loop.last %} or {% endif %}{% endfor %})
     order by {{ key | join(', ') }}, bronze_id desc
),
-- update the changed rows, insert the new keys: both read the table as it was before this statement
updated as (
    update silver.{{ table }} as t
       set {% for column in columns if column not in key %}{{ column }} = u.{{ column }}, {% endfor %}
           row_hash = u.row_hash, bronze_id = u.bronze_id, loaded_at = now()
      from usable u
     where {% for k in key %}t.{{ k }} = u.{{ k }} and {% endfor %}t.row_hash is distinct from u.row_hash
    returning 1
),
inserted as (
    insert into silver.{{ table }} ({{ columns | join(', ') }}, row_hash, bronze_id)
    select {{ columns | join(', ') }}, row_hash, bronze_id
      from usable u
     where not exists (select 1 from silver.{{ table }} t
                        where {% for k in key %}t.{{ k }} = u.{{ k }}{% if not loop.last %} and {% endif %}{% endfor %})
    returning 1
)
insert into _counts
select metric, n
  from (select (select count(*) from inserted) as inserted, (select count(*) from updated) as updated) w
 cross join lateral (values ('inserted', w.inserted), ('updated', w.updated),
                            ('unchanged', (select count(*) from usable) - w.inserted - w.updated)) v(metric, n);
{%- endmacro %}


{% macro apply_deletions(method, table, key_text) -%}
{#- key_text: the SQL expression over the silver row that equals raw_data.pull_keys.external_id -#}
create temporary table _gone on commit drop as
select t.*
  from silver.{{ table }} t
 where exists (select 1 from raw_data.pull_keys k where k.method = '{{ method }}')
   and not exists (select 1 from raw_data.pull_keys k
                    where k.method = '{{ method }}' and k.external_id = {{ key_text }});

-- A pull that suddenly lost most of its rows is an upstream fault, not a mass deletion.
select silver.raise_if(
           gone > 0 and total >= %(min_rows_for_delete_guard)s and gone > total * %(max_delete_fraction)s,
           'refusing to delete ' || gone || ' of ' || total || ' rows of silver.{{ table }}: the latest '
           || '{{ method }} pull lost more than the allowed fraction (' || %(max_delete_fraction)s || ')'
       )
  from (select (select count(*) from _gone) as gone, (select count(*) from silver.{{ table }}) as total) c;

with logged as (
    insert into silver.deletions (table_name, record_key, row_data, run_id)
    select '{{ table }}', {{ key_text | replace('t.', 'g.') }}, to_jsonb(g) - 'row_hash', %(run_id)s
      from _gone g
    returning record_key
),
removed as (
    delete from silver.{{ table }} t
     using _gone g
     where {{ key_text }} = {{ key_text | replace('t.', 'g.') }}
    returning 1
),
forgotten as (
    -- a key that comes back later must load again, even with identical content
    delete from raw_data.current_versions cv
     using logged
     where cv.method = '{{ method }}' and cv.record_key = logged.record_key
    returning 1
)
insert into _counts select 'deleted', count(*) from removed;
{%- endmacro %}


{% macro finish(method) -%}
with marked as (
    update raw_data.{{ method }}
       set is_processed = true, processed_at = now()
     where not is_processed
       and (id > {{ processed_through() }} or %(force_reprocess)s)
    returning 1
)
insert into _counts select 'processed', count(*) from marked;

-- every row is processed now: the watermark is the newest bronze row (bronze cannot append meanwhile: begin()
-- holds the endpoint's lock)
insert into raw_data.silver_watermarks (method, processed_through)
select '{{ method }}', coalesce(max(id), 0) from raw_data.{{ method }}
on conflict (method) do update set processed_through = excluded.processed_through;

select jsonb_object_agg(metric, n) as counts from _counts;
{%- endmacro %}



{% macro begin_derived(table) -%}
select pg_advisory_xact_lock(hashtextextended('elgoose:silver:{{ table }}', 0));

create temporary table _counts (metric text primary key, n bigint not null) on commit drop;
{%- endmacro %}


{% macro sync_derived(table, rows, key, columns) -%}
{#- key: one column; columns: the table's columns in its order (their row_hash: row_hash(columns)) -#}
with fresh as (
    select {{ columns | join(', ') }}, {{ row_hash(columns) }} as row_hash
      from {{ rows }}
),
written as (
    insert into silver.{{ table }} as t ({{ columns | join(', ') }}, row_hash)
    select {{ columns | join(', ') }}, row_hash
      from fresh
    on conflict ({{ key }}) do update
       set {% for c in columns if c != key %}{{ c }} = excluded.{{ c }}, {% endfor %}row_hash = excluded.row_hash,
           loaded_at = now()
     where t.row_hash is distinct from excluded.row_hash
    returning (xmax = 0) as inserted
)
insert into _counts
select metric, n
  from (select count(*) filter (where inserted) as inserted, count(*) filter (where not inserted) as updated
          from written) w
 cross join lateral (values ('inserted', w.inserted), ('updated', w.updated),
                            ('unchanged', (select count(*) from {{ rows }}) - w.inserted - w.updated)) v(metric, n);

with removed as (
    delete from silver.{{ table }} t
     where not exists (select 1 from {{ rows }} n where n.{{ key }} = t.{{ key }})
    returning t.*
),
logged as (
    insert into silver.deletions (table_name, record_key, row_data, run_id)
    select '{{ table }}', {{ key }}::text, to_jsonb(removed) - 'row_hash', %(run_id)s from removed
    returning 1
)
insert into _counts select 'deleted', count(*) from logged;

insert into _counts select 'processed', count(*) from {{ rows }};

select jsonb_object_agg(metric, n) as counts from _counts;
{%- endmacro %}



{% macro set_label(set_number) -%}
{#- 'Set 1', 'Encore', 'Encore 2' from upstream's setnumber ('1'.., 'e', 'e2'): setlists and latest alike -#}
case when {{ set_number }} is null then null
     when {{ set_number }} = 'e' then 'Encore'
     when left({{ set_number }}, 1) = 'e' then 'Encore ' || substr({{ set_number }}, 2)
     else 'Set ' || {{ set_number }} end
{%- endmacro %}
