-- silver.shows: every show ElGoose lists (all artists, future dates included), typed from raw_data.shows.
-- grain: one row per show; key: show_id
-- Shows order by (show_date, show_order, show_id): show_order alone has ties upstream.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('shows') }}

create temporary table _typed on commit drop as
select bronze_id,
       external_id,
       data,
       silver.to_bigint(data -> 'show_id')       as show_id,
       silver.to_date(data ->> 'showdate')       as show_date,
       silver.to_int(data -> 'showorder')        as show_order,
       silver.to_int(data -> 'show_year')        as show_year,
       silver.to_int(data -> 'artist_id')        as artist_id,
       silver.clean_text(data ->> 'artist')      as artist,
       silver.clean_text(data ->> 'showtitle')   as show_title,
       silver.to_int(data -> 'venue_id')         as venue_id,
       silver.clean_text(data ->> 'venuename')   as venue_name,
       silver.clean_text(data ->> 'location')    as location,
       silver.clean_text(data ->> 'city')        as city,
       silver.clean_text(data ->> 'state')       as state,
       silver.clean_text(data ->> 'country')     as country,
       silver.to_int(data -> 'tour_id')          as tour_id,
       silver.clean_text(data ->> 'tourname')    as tour_name,
       nullif(data ->> 'permalink', '')          as permalink,
       case when jsonb_typeof(data -> 'show_tags') = 'array' then data -> 'show_tags' end as show_tags,
       silver.to_timestamptz(data ->> 'created_at') as created_at,
       silver.to_timestamptz(data ->> 'updated_at') as updated_at
  from _unprocessed;

{{ silver.upsert('shows', 'shows', ['show_id'],
    ['show_id', 'show_date', 'show_order', 'show_year', 'artist_id', 'artist', 'show_title', 'venue_id',
     'venue_name', 'location', 'city', 'state', 'country', 'tour_id', 'tour_name', 'permalink', 'show_tags',
     'created_at', 'updated_at'],
    [('show_id is null', 'show_id is missing or not an integer'),
     ('show_date is null', 'showdate is missing or not a valid date')]) }}

{{ silver.apply_deletions('shows', 'shows', 't.show_id::text') }}

-- Shows whose venue has not arrived (or was removed) are kept and reported.
insert into _counts
select 'orphans', count(*)
  from silver.shows s
 where s.venue_id is not null
   and not exists (select 1 from silver.venues v where v.venue_id = s.venue_id);

{{ silver.finish('shows') }}
