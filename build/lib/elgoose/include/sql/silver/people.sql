-- silver.people: the musicians who appear on ElGoose, derived from silver.appearances
-- (the API has no people method).
-- grain: one row per person; key: person_id
-- A person's name and slug are taken from their most recent appearance.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin_derived('people') }}

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
select * from people;

{{ silver.sync_derived('people', '_people', 'person_id',
    ['person_id', 'person_name', 'slug', 'appearance_count', 'first_show_date', 'last_show_date']) }}
