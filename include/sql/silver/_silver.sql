{#-
  Macros shared by every silver table file. One silver file runs as one transaction:

    begin(method)          lock the endpoint against concurrent bronze/silver work, optionally
                           re-mark its current bronze versions unprocessed (force_reprocess), and
                           collect the newest unprocessed version of each record into _unprocessed
    upsert(...)            quarantine what cannot be typed, upsert the rest without rewriting
                           unchanged rows, count inserted/updated/unchanged/rejected
    apply_deletions(...)   remove rows that the latest complete pull no longer serves (refusing a
                           mass deletion), log them, and forget their bronze version
    finish(method)         mark the bronze rows processed and return the counts as one JSON row

  Values reach the SQL only as bind parameters: %(run_id)s, %(force_reprocess)s,
  %(max_delete_fraction)s, %(min_rows_for_delete_guard)s. Table and column names are fixed here.
-#}

{% macro begin(method) -%}
select pg_advisory_xact_lock(hashtextextended('elgoose:bronze:{{ method }}', 0));

create temporary table _counts (metric text primary key, n bigint not null) on commit drop;

update raw_data.{{ method }} b
   set is_processed = false, processed_at = null
  from raw_data.current_versions cv
 where %(force_reprocess)s
   and cv.method = '{{ method }}'
   and b.id = cv.bronze_id
   and b.is_processed;

create temporary table _unprocessed on commit drop as
select distinct on (coalesce(external_id, 'hash:' || content_hash))
       id as bronze_id, external_id, content_hash, data
  from raw_data.{{ method }}
 where not is_processed
 order by coalesce(external_id, 'hash:' || content_hash), id desc;
{%- endmacro %}


{% macro upsert(method, table, key, columns, checks) -%}
{#- checks: list of (condition that makes the record unusable, reason) -#}
insert into silver.rejects (source_table, bronze_id, external_id, reason, payload, run_id)
select '{{ method }}', bronze_id, external_id, reject_reason, data, %(run_id)s
  from (
        select *,
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
           md5(row({{ columns | join(', ') }})::text) as row_hash,
           bronze_id
      from _typed
     where not ({% for condition, _ in checks %}{{ condition }}{% if not loop.last %} or {% endif %}{% endfor %})
     order by {{ key | join(', ') }}, bronze_id desc
),
written as (
    insert into silver.{{ table }} as t ({{ columns | join(', ') }}, row_hash, bronze_id)
    select {{ columns | join(', ') }}, row_hash, bronze_id from usable
    on conflict ({{ key | join(', ') }}) do update
       set {% for column in columns if column not in key %}{{ column }} = excluded.{{ column }}, {% endfor %}
           row_hash = excluded.row_hash, bronze_id = excluded.bronze_id, loaded_at = now()
     where t.row_hash is distinct from excluded.row_hash
    returning (xmax = 0) as inserted
)
insert into _counts
select metric, n
  from (select count(*) filter (where inserted) as inserted, count(*) filter (where not inserted) as updated
          from written) w
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
    returning 1
)
insert into _counts select 'processed', count(*) from marked;

select jsonb_object_agg(metric, n) as counts from _counts;
{%- endmacro %}
