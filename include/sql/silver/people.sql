-- silver.people: the musicians who appear on ElGoose, derived from silver.appearances
-- (the API has no people method).
-- grain: one row per person; key: person_id
-- A person's name and slug are taken from their most recent appearance.
select pg_advisory_xact_lock(hashtextextended('elgoose:silver:people', 0));

create temporary table _counts (metric text primary key, n bigint not null) on commit drop;

create temporary table _people on commit drop as
with ranked as (
    select person_id,
           person_name,
           person_slug,
           show_date,
           row_number() over (partition by person_id
                              order by show_date desc nulls last, show_id desc, appearance_type) as recency
      from silver.appearances
),
people as (
    select person_id,
           max(person_name) filter (where recency = 1)  as person_name,
           max(person_slug) filter (where recency = 1)  as slug,
           count(*)::integer                            as appearance_count,
           min(show_date)                               as first_show_date,
           max(show_date)                               as last_show_date
      from ranked
     group by person_id
)
select people.*,
       md5(row(person_id, person_name, slug, appearance_count, first_show_date, last_show_date)::text) as row_hash
  from people;

with written as (
    insert into silver.people as t (person_id, person_name, slug, appearance_count, first_show_date,
                                    last_show_date, row_hash)
    select person_id, person_name, slug, appearance_count, first_show_date, last_show_date, row_hash
      from _people
    on conflict (person_id) do update
       set person_name = excluded.person_name, slug = excluded.slug,
           appearance_count = excluded.appearance_count, first_show_date = excluded.first_show_date,
           last_show_date = excluded.last_show_date, row_hash = excluded.row_hash, loaded_at = now()
     where t.row_hash is distinct from excluded.row_hash
    returning (xmax = 0) as inserted
)
insert into _counts
select metric, n
  from (select count(*) filter (where inserted) as inserted, count(*) filter (where not inserted) as updated
          from written) w
 cross join lateral (values ('inserted', w.inserted), ('updated', w.updated),
                            ('unchanged', (select count(*) from _people) - w.inserted - w.updated)) v(metric, n);

with removed as (
    delete from silver.people p
     where not exists (select 1 from _people n where n.person_id = p.person_id)
    returning p.*
),
logged as (
    insert into silver.deletions (table_name, record_key, row_data, run_id)
    select 'people', person_id::text, to_jsonb(removed) - 'row_hash', %(run_id)s from removed
    returning 1
)
insert into _counts select 'deleted', count(*) from logged;

insert into _counts select 'processed', count(*) from _people;

select jsonb_object_agg(metric, n) as counts from _counts;
