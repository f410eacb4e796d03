-- quality: the gates between silver and gold. Each check gives pass, warn or fail; the rows land in
-- public.quality_checks for this run, and a 'fail' stops the run before gold is refreshed.
-- grain: one row per check; key: (run_id, check_name)
create temporary table _checks (
    check_name  text not null,
    status      text not null,
    observed    numeric,
    expected    text,
    detail      text
) on commit drop;

-- Row counts within a tolerance of the last run's: a table that suddenly lost most of its rows is a fault.
-- The tables are the registry's silver tables with row_count_gate (tables replaced each run have none).
with current_counts as (
    {%- for table in params.row_count_tables %}
    {% if not loop.first %}union all {% endif %}select 'silver.{{ table }}' as table_name, count(*) as n from silver.{{ table }}
    {%- endfor %}
),
previous_counts as (
    select distinct on (check_name) check_name, observed
      from public.quality_checks
     where starts_with(check_name, 'row_count:')
     order by check_name, id desc
)
insert into _checks
select 'row_count:' || c.table_name,
       case when p.observed is not null and c.n < p.observed * (1 - %(rowcount_drop_tolerance)s) then 'fail'
            else 'pass' end,
       c.n,
       case when p.observed is null then 'first run'
            else 'at least ' || floor(p.observed * (1 - %(rowcount_drop_tolerance)s)) || ' (last run: ' || p.observed || ')'
       end,
       null
  from current_counts c
  left join previous_counts p on p.check_name = 'row_count:' || c.table_name;

-- Referential integrity: children whose parent has not arrived are kept, and reported.
insert into _checks
select 'orphans:setlists_without_show',
       case when count(*) = 0 then 'pass' else 'warn' end, count(*), '0',
       'unique_ids: ' || coalesce(string_agg(s.unique_id::text, ', ' order by s.unique_id)
                                  filter (where s.unique_id is not null), '')
  from silver.setlists s
 where not exists (select 1 from silver.shows sh where sh.show_id = s.show_id);

-- An album track whose song_url slug names no catalogue song (an interlude, a slug spelled differently).
insert into _checks
select 'orphans:album_tracks_without_song',
       case when count(*) = 0 then 'pass' else 'warn' end, count(*), '0',
       'tracks: ' || coalesce(string_agg(t.album_slug || ' ' || t.disc_number || '-' || t.position, ', '
                                         order by t.album_slug, t.disc_number, t.position), '')
  from silver.album_tracks t
 where t.song_id is null;

insert into _checks
select 'orphans:shows_without_venue',
       case when count(*) = 0 then 'pass' else 'warn' end, count(*), '0', null
  from silver.shows sh
 where sh.venue_id is not null
   and not exists (select 1 from silver.venues v where v.venue_id = sh.venue_id);

insert into _checks
select 'orphans:jamcharts_without_setlist',
       case when count(*) = 0 then 'pass' else 'warn' end, count(*), '0', null
  from silver.jamcharts j
 where not exists (select 1 from silver.setlists s where s.unique_id = j.unique_id);

-- Keys: every silver table has its primary key, and (show_id, position) is unique as upstream promises.
insert into _checks
select 'primary_keys',
       case when count(*) filter (where c.oid is null) = 0 then 'pass' else 'fail' end,
       count(*) filter (where c.oid is not null),
       count(*) || ' tables with a primary key',
       string_agg(t.relname, ', ' order by t.relname) filter (where c.oid is null)
  from pg_class t
  join pg_namespace n on n.oid = t.relnamespace and n.nspname = 'silver'
  left join pg_constraint c on c.conrelid = t.oid and c.contype = 'p'
 where t.relkind = 'r';

insert into _checks
select 'unique:setlists_show_position',
       case when count(*) = 0 then 'pass' else 'warn' end, count(*), '0', null
  from (select show_id, position from silver.setlists group by 1, 2 having count(*) > 1) d;

-- Golden records: known shows must look exactly as they do upstream.
insert into _checks
select 'golden:' || g.show_date,
       case when count(s.unique_id) = g.setlist_rows
             and coalesce(array_agg(distinct s.set_number order by s.set_number)
                          filter (where s.set_number is not null), '{}') = g.set_numbers
            then 'pass' else 'fail' end,
       count(s.unique_id),
       g.setlist_rows || ' rows in sets ' || array_to_string(g.set_numbers, ', '),
       g.description || '; found sets '
       || coalesce(array_to_string(array_agg(distinct s.set_number order by s.set_number), ', '), 'none')
  from jsonb_to_recordset(%(golden_records)s::jsonb)
       as g(show_date date, artist_id integer, setlist_rows integer, set_numbers text[], description text)
  left join silver.setlists s on s.show_date = g.show_date and s.artist_id = g.artist_id
 group by g.show_date, g.artist_id, g.setlist_rows, g.set_numbers, g.description;

-- Freshness: the newest show of the artist is not older than the allowed age (a warning only).
insert into _checks
select 'freshness:newest_show',
       case when max(show_date) >= current_date - %(freshness_max_days)s::integer then 'pass' else 'warn' end,
       current_date - max(show_date),
       'at most ' || %(freshness_max_days)s || ' days old',
       'newest show ' || coalesce(max(show_date)::text, 'none')
  from silver.setlists
 where artist_id = %(artist_id)s;

-- Quarantine: records this run could not type.
insert into _checks
select 'rejects:this_run', case when count(*) = 0 then 'pass' else 'warn' end, count(*), '0',
       string_agg(distinct source_table || ': ' || reason, '; ')
  from silver.rejects
 where run_id = %(run_id)s;

insert into public.quality_checks (run_id, layer, check_name, status, observed, expected, detail)
select %(run_id)s, 'silver', check_name, status, observed, expected, detail
  from _checks
 order by check_name;

select jsonb_agg(jsonb_build_object('check', check_name, 'status', status, 'observed', observed,
                                    'expected', expected, 'detail', detail) order by check_name)
  from _checks;
